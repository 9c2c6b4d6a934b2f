#!/usr/bin/env bash
# A role that one repository's main branch and its prod environment may assume, trusting the
# provider the account already has (or creating it in the same stack).
#   examples/role-for-repository.sh PROFILE OWNER/REPO [ROLE_NAME]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PROFILE OWNER/REPO [ROLE_NAME]" >&2; exit 2; }
profile=$1 repository=$2
role=${3:-gh-oidc-${repository/\//-}}

report=$(gh-oidc setup --profile "$profile" --role-name "$role" \
    --repo "$repository" --branch main --environment prod \
    --tag managed-by=gh-oidc --yes --output json)
# The JSON report is pretty-printed, one key per line.
role_arn=$(sed -n 's/^ *"RoleArn": "\(.*\)".*/\1/p' <<<"$report")
echo "role-to-assume for the workflow: $role_arn"
