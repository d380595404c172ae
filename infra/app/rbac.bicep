// Azure role assignments, granted from the lists below. Microsoft Graph application roles are not
// Azure roles: an administrator grants them with infra/grant-graph-permissions.sh.

@description('Object id of the Function App\'s user-assigned identity (it exists before the app: these grants come first).')
param appPrincipalId string

param storageAccountName string
param applicationInsightsName string
param keyVaultName string

@description('Object id of the person or pipeline running azd; empty: no grants for it.')
param userPrincipalId string = ''

@allowed(['User', 'ServicePrincipal'])
param userPrincipalType string = 'User'

// Built-in role definition ids (reference/azure-platform.md section 7.1).
// What the Function App's identity gets on the storage account:
var appStorageRoles = [
  {
    role: 'Storage Blob Data Owner' // host storage, timer leases, deployment package
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  }
  {
    role: 'Storage Queue Data Contributor' // host queues (and the queue mode to come)
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  }
  {
    role: 'Storage Table Data Contributor' // the sync's state tables
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  }
]

// ... on Application Insights (telemetry with Entra authentication):
var appMonitoringRoles = [
  {
    role: 'Monitoring Metrics Publisher'
    id: '3913510d-42f4-4e42-8a64-420c390055eb'
  }
]

// ... on the Key Vault (Key Vault references in app settings):
var appKeyVaultRoles = [
  {
    role: 'Key Vault Secrets User'
    id: '4633458b-17de-408a-b874-0445c86b69e6'
  }
]

// What the deployer gets: `viva-sync status` from a workstation, and setting the LMS secrets.
var userStorageRoles = [
  {
    role: 'Storage Table Data Contributor'
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  }
]

var userKeyVaultRoles = [
  {
    role: 'Key Vault Secrets Officer'
    id: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appStorageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in appStorageRoles: {
  name: guid(storage.id, appPrincipalId, r.id)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: '${r.role} for the viva-learning-sync Function App'
  }
}]

resource appMonitoringAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in appMonitoringRoles: {
  name: guid(appInsights.id, appPrincipalId, r.id)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: '${r.role} for the viva-learning-sync Function App'
  }
}]

resource appKeyVaultAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in appKeyVaultRoles: {
  name: guid(vault.id, appPrincipalId, r.id)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: '${r.role} for the viva-learning-sync Function App'
  }
}]

resource userStorageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in userStorageRoles: if (!empty(userPrincipalId)) {
  name: guid(storage.id, userPrincipalId, r.id)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r.id)
    principalId: userPrincipalId
    principalType: userPrincipalType
    description: '${r.role} for the viva-learning-sync deployer'
  }
}]

resource userKeyVaultAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in userKeyVaultRoles: if (!empty(userPrincipalId)) {
  name: guid(vault.id, userPrincipalId, r.id)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r.id)
    principalId: userPrincipalId
    principalType: userPrincipalType
    description: '${r.role} for the viva-learning-sync deployer'
  }
}]
