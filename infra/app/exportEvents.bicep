// A new export starts a sync pass within the minute (README, "Exports in Blob Storage"): an Event
// Grid system topic on the storage account that holds the exports and, once the app's code is
// deployed (the subscription's target function must exist), a subscription that delivers
// BlobCreated events for the exports container to the `exportLanded` function. The timer remains
// the safety net: without the subscription, new exports are read by the next scheduled run.
//
// Unvalidated source: no Bicep compiler was available where this was written (infra/README.md).

param location string
param tags object

@description('The storage account that holds the exports (the SFTP drop, or the app\'s own).')
param storageAccountName string

@description('The container the exports land in: only its BlobCreated events are delivered.')
param containerName string

param functionAppName string

@description('Create the subscription (true once `azd deploy` has deployed the exportLanded function).')
param subscribe bool

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-${storageAccountName}'
  location: location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Delivered to the function by resource id (an Event Grid trigger): no function key in the URL,
// and the blob's content is never handed to the function (only the event).
resource exportLanded 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (subscribe) {
  parent: topic
  name: 'export-landed'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/exportLanded'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 10
      eventTimeToLiveInMinutes: 60
    }
  }
}

output topicName string = topic.name
