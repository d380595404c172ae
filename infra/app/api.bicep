// The Function App: a Flex Consumption plan (FC1, Linux), a site running Node 22 with a
// user-assigned managed identity (infra/app/identity.bicep), its deployment package in a blob
// container reached with that identity, and its app settings.
//
// ORDER (the Flex Consumption azd quickstarts' pattern): the identity exists, and holds its roles
// (infra/app/rbac.bicep), BEFORE this site is created: main.bicep makes this module depend on the
// grants. So the Key Vault references resolve on the first start, and the first package upload
// (written with this identity) is not refused with 403 while the grants are still being created.
//
// APP SETTINGS CONVENTION (test/unit/infra.test.ts parses it, and fails when the code and this
// file disagree):
//   - Every app setting is one line `NAME: value` inside one of the object literals written
//     between the line `// app-settings:begin` and the line `// app-settings:end` below.
//   - One setting per line; nothing else between the markers but those objects and comments.
//   - No app setting is declared anywhere else in this file (no siteConfig.appSettings, no
//     `{ name: 'X', value: ... }` lists): the single `appsettings` config resource below is
//     the union of those objects.
//   - A secret is a Key Vault reference, never a plain value, and appears only when the vault
//     holds it (an unresolved reference would reach the app as the literal "@Microsoft.KeyVault(...)").
//   - AZURE_CLIENT_ID and AzureWebJobsStorage__clientId name the user-assigned identity: the
//     credentials (Graph, the state tables, the host) would otherwise look for a system-assigned one.
//   - Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
//     WEBSITE_RUN_FROM_PACKAGE and friends: the runtime lives in functionAppConfig.

param name string
param planName string
param location string
param tags object

param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param keyVaultName string

@description('Resource id of the user-assigned identity the app runs as (granted its roles before this site exists).')
param identityId string

@description('Client id of that identity: the credentials select it by this id.')
param identityClientId string

@description('App settings whose value is a Key Vault reference (their secret exists in the vault).')
param keyVaultSecretSettings array

// Flex Consumption: 40 to 1000 (the documented lowest maximum is 40).
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@allowed([2048, 4096])
param instanceMemoryMB int

// The sync's settings, from infra/main.bicep ('' = the app's default).
param vivaProviderId string
param syncSchedule string
param lmsAdapter string
param lmsFilePath string
param lmsMappingPath string
param lmsExportSettleSeconds string
param lmsExportDoneSuffix string
param lmsBaseUrl string
param lmsClientId string
param lmsTokenUrl string
param lmsUsername string
param lmsCourseIds string
param lmsCanvasAccountId string
param lmsAssignmentType string
param lmsMoodleReportId string
param lmsXapiCompletedVerbs string
param lmsXapiStartedVerbs string
param lmsXapiEnrolledVerbs string
param lmsXapiWithdrawnVerbs string
param lmsXapiProgressExtensions string
param lmsXapiDueDays string
param lmsOnerosterVersion string
param lmsOnerosterFullPull string
param lmsOnerosterGradebook string
param lmsOnerosterCourseUrl string
param lmsOnerosterScope string
param graphApiVersion string
param graphMaxConcurrency string
param graphMaxRps string
param graphBatchSize string
param graphRequestTimeoutSeconds string
param learnerMatch string
param syncTablePrefix string
param syncTimeBudgetSeconds string
param syncLookbackSeconds string
param syncQuarantineFailureShare string
param syncQuarantineMaxDeletes string
param syncMode string
param syncQueueName string
param syncCatalog string
param lmsCatalogPath string
param lmsExportMode string

var storageSuffix = environment().suffixes.storage
// No trailing slash: the table client appends the table name to this URL.
var blobEndpoint = 'https://${storageAccountName}.blob.${storageSuffix}'
var queueEndpoint = 'https://${storageAccountName}.queue.${storageSuffix}'
var tableEndpoint = 'https://${storageAccountName}.table.${storageSuffix}'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved with the user-assigned identity (the default would be a system-assigned one).
    keyVaultReferenceIdentity: identityId
    // No alwaysOn: Flex Consumption lists it as not valid, and newer regions refuse it (ARM error 51021).
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// app-settings:begin
// The Functions host: identity-based storage connection (no account key) and Application Insights
// with Entra authentication (the component has local auth disabled).
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// The sync (src/config/loadConfig.ts). The state tables live in the host storage account above
// (the code reads AzureWebJobsStorage__tableServiceUri); Graph is called as the managed identity.
var syncSettings = {
  VIVA_PROVIDER_ID: vivaProviderId
  GRAPH_AUTH: 'managed-identity'
  AZURE_CLIENT_ID: identityClientId
  GRAPH_API_VERSION: graphApiVersion
  GRAPH_MAX_CONCURRENCY: graphMaxConcurrency
  GRAPH_MAX_RPS: graphMaxRps
  GRAPH_BATCH_SIZE: graphBatchSize
  GRAPH_REQUEST_TIMEOUT_SECONDS: graphRequestTimeoutSeconds
  LMS_ADAPTER: lmsAdapter
  LMS_FILE_PATH: lmsFilePath
  LMS_MAPPING_PATH: lmsMappingPath
  LMS_EXPORT_SETTLE_SECONDS: lmsExportSettleSeconds
  LMS_EXPORT_DONE_SUFFIX: lmsExportDoneSuffix
  LMS_BASE_URL: lmsBaseUrl
  LMS_CLIENT_ID: lmsClientId
  LMS_TOKEN_URL: lmsTokenUrl
  LMS_USERNAME: lmsUsername
  LMS_COURSE_IDS: lmsCourseIds
  LMS_CANVAS_ACCOUNT_ID: lmsCanvasAccountId
  LMS_ASSIGNMENT_TYPE: lmsAssignmentType
  LMS_MOODLE_REPORT_ID: lmsMoodleReportId
  LMS_XAPI_COMPLETED_VERBS: lmsXapiCompletedVerbs
  LMS_XAPI_STARTED_VERBS: lmsXapiStartedVerbs
  LMS_XAPI_ENROLLED_VERBS: lmsXapiEnrolledVerbs
  LMS_XAPI_WITHDRAWN_VERBS: lmsXapiWithdrawnVerbs
  LMS_XAPI_PROGRESS_EXTENSIONS: lmsXapiProgressExtensions
  LMS_XAPI_DUE_DAYS: lmsXapiDueDays
  LMS_ONEROSTER_VERSION: lmsOnerosterVersion
  LMS_ONEROSTER_FULL_PULL: lmsOnerosterFullPull
  LMS_ONEROSTER_GRADEBOOK: lmsOnerosterGradebook
  LMS_ONEROSTER_COURSE_URL: lmsOnerosterCourseUrl
  LMS_ONEROSTER_SCOPE: lmsOnerosterScope
  LEARNER_MATCH: learnerMatch
  SYNC_SCHEDULE: empty(syncSchedule) ? '0 */15 * * * *' : syncSchedule
  SYNC_TABLE_PREFIX: syncTablePrefix
  SYNC_TIME_BUDGET_SECONDS: syncTimeBudgetSeconds
  SYNC_LOOKBACK_SECONDS: syncLookbackSeconds
  SYNC_QUARANTINE_FAILURE_SHARE: syncQuarantineFailureShare
  SYNC_QUARANTINE_MAX_DELETES: syncQuarantineMaxDeletes
  SYNC_MODE: syncMode
  SYNC_QUEUE_NAME: syncQueueName
  SYNC_CATALOG: syncCatalog
  LMS_CATALOG_PATH: lmsCatalogPath
  LMS_EXPORT_MODE: lmsExportMode
}

// Secrets: Key Vault references (secret name = setting name with '_' -> '-'), kept only for the
// settings listed in keyVaultSecretSettings.
var secretSettings = {
  LMS_CLIENT_SECRET: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=LMS-CLIENT-SECRET)'
  LMS_PASSWORD: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=LMS-PASSWORD)'
  LMS_TOKEN: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=LMS-TOKEN)'
  WEBHOOK_SECRET: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=WEBHOOK-SECRET)'
}
// app-settings:end

var storedSecretSettings = toObject(filter(items(secretSettings), s => contains(keyVaultSecretSettings, s.key)), s => s.key, s => s.value)

// Replaces every app setting on each provision: settings added by hand in the portal are removed.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(hostSettings, syncSettings, storedSecretSettings)
}

output name string = functionApp.name
output url string = 'https://${functionApp.properties.defaultHostName}'
