#!/usr/bin/env bash
# Tears down role stacks first, then the provider stack the roles trusted.
#   examples/teardown.sh PROFILE ROLE_STACK...
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PROFILE [ROLE_STACK...]" >&2; exit 2; }
profile=$1
shift
for stack in "$@"; do
    gh-oidc teardown --profile "$profile" --stack-name "$stack" --yes
done
gh-oidc teardown --profile "$profile" --stack-name gh-oidc-provider --yes
