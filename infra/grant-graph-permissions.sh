#!/usr/bin/env bash
# Grants the viva-learning-sync Function App's managed identity the Microsoft Graph application
# roles the sync needs. An administrator who may grant application roles runs it once, after
# `azd up`. Idempotent: roles already granted are left alone, and each line says what happened.
#
# Unverified here: it was tested against a stand-in `az` (test/support/fake-az/az), not a tenant.
set -euo pipefail

readonly GRAPH_APP_ID='00000003-0000-0000-c000-000000000000'
readonly GRAPH_API='https://graph.microsoft.com/v1.0'
readonly ROLES=(
  'LearningContent.ReadWrite.All'
  'LearningAssignedCourse.ReadWrite.All'
  'LearningSelfInitiatedCourse.ReadWrite.All'
  'User.Read.All'
)

usage() {
  cat <<'EOF'
Usage:
  infra/grant-graph-permissions.sh --app NAME --resource-group GROUP [--dry-run]
  infra/grant-graph-permissions.sh --object-id ID [--dry-run]

Grants the managed identity of the viva-learning-sync Function App these Microsoft Graph
application roles, if it does not hold them yet:
  LearningContent.ReadWrite.All              upsert the course catalog (learningContents)
  LearningAssignedCourse.ReadWrite.All       create, update, delete assignments
  LearningSelfInitiatedCourse.ReadWrite.All  create, update, delete self-initiated courses
  User.Read.All                              resolve learners to Entra users

Options:
  -a, --app NAME             the Function App      (azd env get-value AZURE_FUNCTION_NAME)
  -g, --resource-group NAME  its resource group    (azd env get-value AZURE_RESOURCE_GROUP)
  -o, --object-id ID         the identity's object (principal) id, instead of --app and
                             --resource-group      (azd env get-value AZURE_FUNCTION_PRINCIPAL_ID)
  -n, --dry-run              say what would be granted; change nothing
  -h, --help                 show this text

Run it signed in with the Azure CLI (az login) as a Privileged Role Administrator or Global
Administrator of the tenant: granting application roles of Microsoft Graph needs
AppRoleAssignment.ReadWrite.All, which Azure subscription roles such as Owner do not give.
Running it again changes nothing. The role ids are looked up by name on the Microsoft Graph
service principal (appId 00000003-0000-0000-c000-000000000000) and printed.

Exit status: 0 done (or nothing to do), 1 an Azure CLI call failed, 2 usage error.
EOF
}

die() {
  echo "grant-graph-permissions: $*" >&2
  exit 1
}

usage_error() {
  echo "grant-graph-permissions: $*" >&2
  echo "Try: infra/grant-graph-permissions.sh --help" >&2
  exit 2
}

app=''
group=''
object_id=''
dry_run=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    -a | --app)
      [[ $# -ge 2 ]] || usage_error "$1 needs a value"
      app=$2
      shift 2
      ;;
    -g | --resource-group)
      [[ $# -ge 2 ]] || usage_error "$1 needs a value"
      group=$2
      shift 2
      ;;
    -o | --object-id)
      [[ $# -ge 2 ]] || usage_error "$1 needs a value"
      object_id=$2
      shift 2
      ;;
    -n | --dry-run)
      dry_run=true
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage_error "unknown argument: $1"
      ;;
  esac
done

if [[ -n $object_id ]]; then
  [[ -z $app && -z $group ]] || usage_error "give either --object-id or --app with --resource-group, not both"
elif [[ -z $app || -z $group ]]; then
  usage_error "give --app and --resource-group (or --object-id)"
fi

command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is not on PATH: https://learn.microsoft.com/cli/azure/install-azure-cli"

# `az -o tsv` output, without the carriage returns the CLI adds on Windows.
az_tsv() {
  local out
  out=$(az "$@" -o tsv) || return 1
  printf '%s' "${out//$'\r'/}"
}

guid_pattern='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

tenant=$(az_tsv account show --query tenantId) || die "az account show failed: sign in with az login first"
echo "Tenant: $tenant"

if [[ -z $object_id ]]; then
  # infra/main.bicep gives the app a user-assigned identity; a system-assigned one (older deployments) is taken first.
  object_id=$(az_tsv functionapp identity show --name "$app" --resource-group "$group" \
    --query 'principalId || values(userAssignedIdentities || `{}`)[0].principalId') ||
    die "could not read the identity of Function App $app in $group"
  [[ -n $object_id && $object_id != 'None' ]] || die "Function App $app has no managed identity (was it deployed with infra/main.bicep?)"
  echo "Managed identity: $object_id (Function App $app, resource group $group)"
else
  echo "Managed identity: $object_id"
fi
[[ $object_id =~ $guid_pattern ]] || usage_error "not an object id: $object_id"

graph_sp=$(az_tsv ad sp show --id "$GRAPH_APP_ID" --query id) || die "could not read the Microsoft Graph service principal"
[[ $graph_sp =~ $guid_pattern ]] || die "unexpected Microsoft Graph service principal id: $graph_sp"
echo "Microsoft Graph service principal: $graph_sp"

# "value<TAB>id" for every application role Microsoft Graph offers.
app_roles=$(az_tsv ad sp show --id "$GRAPH_APP_ID" --query "appRoles[?contains(allowedMemberTypes, 'Application')].[value, id]") ||
  die "could not read the application roles of Microsoft Graph"

# "resourceId<TAB>appRoleId" for every role the identity holds. (One page: a managed identity holds
# far fewer than the 100 assignments a page returns.)
held=$(az_tsv rest --method GET --url "$GRAPH_API/servicePrincipals/$object_id/appRoleAssignments" \
  --query 'value[].[resourceId, appRoleId]') ||
  die "could not list the application roles the identity holds"

granted=0
already=0
for role in "${ROLES[@]}"; do
  role_id=$(awk -F '\t' -v want="$role" '$1 == want { print $2; exit }' <<<"$app_roles")
  [[ $role_id =~ $guid_pattern ]] || die "Microsoft Graph offers no application role named $role"
  echo "Role $role = $role_id"
  if awk -F '\t' -v sp="$graph_sp" -v id="$role_id" '$1 == sp && $2 == id { found = 1 } END { exit !found }' <<<"$held"; then
    echo "already granted $role"
    already=$((already + 1))
  elif [[ $dry_run == true ]]; then
    echo "would grant $role"
    granted=$((granted + 1))
  else
    body=$(printf '{"principalId":"%s","resourceId":"%s","appRoleId":"%s"}' "$object_id" "$graph_sp" "$role_id")
    az rest --method POST --url "$GRAPH_API/servicePrincipals/$object_id/appRoleAssignments" \
      --headers 'Content-Type=application/json' --body "$body" --output none ||
      die "granting $role failed (are you a Privileged Role Administrator or Global Administrator?)"
    echo "granted $role"
    granted=$((granted + 1))
  fi
done

if [[ $dry_run == true ]]; then
  echo "Dry run: $granted to grant, $already already granted; nothing changed."
else
  echo "Done: $granted granted, $already already granted."
  if [[ $granted -gt 0 ]]; then
    echo "Tokens the app already holds keep their old roles until they expire (up to about 24 hours);"
    echo "restarting the Function App is reported to pick the new roles up sooner."
  fi
fi
