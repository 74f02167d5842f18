import CMPI
import CMPIShims
import QCLab
