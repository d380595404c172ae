// A Key Vault in RBAC mode holding the LMS credentials and the webhook secret. The Function App
// reads them through Key Vault references in its app settings (infra/app/api.bicep) with Key Vault
// Secrets User (infra/app/rbac.bicep).
//
// A secret is written only when its parameter is non-empty: leaving a parameter empty on a later
// `azd provision` leaves the stored secret as it is. Secret names are the setting names with '_'
// replaced by '-' (Key Vault allows letters, digits and '-').

param name string
param location string
param tags object

@secure()
param lmsClientSecret string = ''

@secure()
param lmsPassword string = ''

@secure()
param lmsToken string = ''

@secure()
param webhookSecret string = ''

var secrets = [
  {
    setting: 'LMS_CLIENT_SECRET'
    name: 'LMS-CLIENT-SECRET'
    value: lmsClientSecret
  }
  {
    setting: 'LMS_PASSWORD'
    name: 'LMS-PASSWORD'
    value: lmsPassword
  }
  {
    setting: 'LMS_TOKEN'
    name: 'LMS-TOKEN'
    value: lmsToken
  }
  {
    setting: 'WEBHOOK_SECRET'
    name: 'WEBHOOK-SECRET'
    value: webhookSecret
  }
]

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for s in secrets: if (!empty(s.value)) {
  parent: vault
  name: s.name
  properties: {
    value: s.value
    contentType: 'text/plain'
  }
}]

output name string = vault.name
output uri string = vault.properties.vaultUri
