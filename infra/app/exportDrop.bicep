// The SFTP drop for LMSs that push their exports (enableSftpDrop): a separate storage account,
// because SFTP needs the hierarchical namespace, with a container `lms-exports`, SFTP enabled, one
// local user that authenticates with an SSH key and may only write and list in that container,
// and read access for the Function App's identity. docs/deploy.md walks an LMS administrator
// through pointing a scheduled SFTP export at it.
//
// Unvalidated source: no Bicep compiler was available where this was written (infra/README.md).

param name string
param location string
param tags object

@description('The container the LMS writes to, and the local user\'s home directory.')
param containerName string

@description('The SFTP user name the LMS connects as (<account>.<user>@<account>.blob.core.windows.net).')
param sftpUserName string

@description('The LMS\'s SSH public key (one line: ssh-rsa AAAA... or ssh-ed25519 AAAA...).')
param sftpPublicKey string

@description('Object id of the Function App\'s user-assigned identity: it reads the exports.')
param appPrincipalId string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    // SFTP requires the hierarchical namespace; local users are its only way in (no Entra, no SAS).
    isHnsEnabled: true
    isSftpEnabled: true
    isLocalUserEnabled: true
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

// The LMS's login: SSH key only, confined to the container; it may create, write and list
// (and read back what it wrote), never delete.
resource sftpUser 'Microsoft.Storage/storageAccounts/localUsers@2023-05-01' = {
  parent: account
  name: sftpUserName
  properties: {
    hasSshKey: true
    hasSshPassword: false
    hasSharedKey: false
    homeDirectory: containerName
    permissionScopes: [
      {
        service: 'blob'
        resourceName: containerName
        permissions: 'rcwl'
      }
    ]
    sshAuthorizedKeys: [
      {
        description: 'LMS scheduled export'
        key: sftpPublicKey
      }
    ]
  }
  dependsOn: [
    container
  ]
}

// Storage Blob Data Reader (reference: Azure built-in roles) for the Function App on this account.
var blobDataReaderRoleId = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource appReadsExports 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, appPrincipalId, blobDataReaderRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataReaderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output id string = account.id
@description('LMS_FILE_PATH for the drop: every export in the container.')
output exportsUrl string = '${account.properties.primaryEndpoints.blob}${containerName}/'
output sftpHost string = '${account.name}.blob.${environment().suffixes.storage}'
output sftpLogin string = '${account.name}.${sftpUserName}'
