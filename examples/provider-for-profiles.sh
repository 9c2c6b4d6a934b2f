#!/usr/bin/env bash
# The GitHub OIDC provider in every account you name, one profile each.
#   examples/provider-for-profiles.sh dev staging prod
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 PROFILE..." >&2; exit 2; }
for profile in "$@"; do
    # Reuses an existing provider if the account has one; otherwise creates it in the
    # stack gh-oidc-provider. --yes because a script has no terminal to answer on.
    gh-oidc setup --profile "$profile" --yes
done
