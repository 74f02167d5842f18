import QCLab
