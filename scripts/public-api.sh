#!/usr/bin/env bash
# Keeps the public surface small: lists every public type declared in Sources (top-level
# and nested structs, classes, enums, protocols, typealiases, actors), fails when there are
# more than the limit, and fails when the DocC overview (QCLab.md) does not list one of them.
# What only the package's targets share is `package`, not `public`; what the benchmarks
# need beyond that is `@_spi(Benchmarks) public` (on the line of `public`), not part of
# the public surface, so declarations carrying `@_spi(` are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=39
overview=Sources/QCLab/QCLab.docc/QCLab.md
types=$(grep -rhoE --include='*.swift' \
    '^\s*(@[A-Za-z_]+(\([^)]*\))?\s+)*public\s+((final|indirect)\s+)*(struct|class|enum|protocol|typealias|actor)\s+[A-Za-z_][A-Za-z0-9_]*' \
    Sources | grep -v '@_spi(' | awk '{print $NF " (" $(NF-1) ")"}' | sort)
count=$(printf '%s\n' "$types" | grep -c . || true)
printf '%s\n' "$types"
echo "public-api.sh: $count public types (limit $limit)"
status=0
if [ "$count" -gt "$limit" ]; then
    echo "public-api.sh: more than $limit public types; make what only the package uses package" >&2
    status=1
fi
for name in $(printf '%s\n' "$types" | awk '{print $1}' | sort -u); do
    if ! grep -q "\`\`[A-Za-z./]*$name\`\`" "$overview"; then
        echo "public-api.sh: $overview does not list the public type $name" >&2
        status=1
    fi
done
exit $status
