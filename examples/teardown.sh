#!/usr/bin/env bash
# Tears down role stacks and the provider stack they trusted, in one run: gh-oidc deletes the
# role stacks first and the provider last, and refuses to delete a provider that roles outside
# these stacks still trust.
#   examples/teardown.sh PROFILE ROLE_STACK...
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PROFILE [ROLE_STACK...]" >&2; exit 2; }
profile=$1
shift
stacks=()
for stack in "$@" gh-oidc-provider; do
    stacks+=(--stack-name "$stack")
done
gh-oidc teardown --profile "$profile" "${stacks[@]}" --yes
