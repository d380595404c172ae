// The user-assigned managed identity the Function App runs as. It exists before the site, so its
// roles (infra/app/rbac.bicep) are granted before the site starts or receives its first package,
// as in the official Flex Consumption azd quickstarts.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
