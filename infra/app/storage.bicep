// One storage account for the Functions host (blobs: deployment package and timer leases; queues)
// and for the sync's state tables. Shared keys are off: everything reaches it with an Entra identity.

param name string
param location string
param tags object
param deploymentContainerName string

@description('SYNC_TABLE_PREFIX: the tables are named prefix + suffix.')
param tablePrefix string

@description('SYNC_QUEUE_NAME: the work queue of queue mode; the queue trigger moves failed messages to <name>-poison.')
param queueName string

// The state tables (src/state/tableState.ts TABLE_SUFFIXES; test/unit/infra.test.ts keeps the two
// lists equal). The app also creates them on first use, so a missing one is not fatal.
var tableSuffixes = [
  'Cursor'
  'Ledger'
  'Contents'
  'Learners'
  'DeadLetters'
  'Runs'
  'Lease'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Queue mode (SYNC_MODE=queue): the planner enqueues work batches, the syncWorker function writes them;
// syncPoison turns what lands in the poison queue into dead letters. The app also creates them when missing.
resource workQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: queueName
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${queueName}-poison'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for suffix in tableSuffixes: {
  parent: tableService
  name: '${tablePrefix}${suffix}'
}]

output name string = storage.name
output tableEndpoint string = 'https://${storage.name}.table.${environment().suffixes.storage}'
output tableNames array = [for suffix in tableSuffixes: '${tablePrefix}${suffix}']
