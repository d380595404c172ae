// viva-learning-sync on Azure: a Flex Consumption Function App (Node 22) running as a user-assigned
// managed identity (created and granted its roles before the app exists), one storage account (Functions host storage and the sync's state tables, no
// account keys), Application Insights on a Log Analytics workspace, and a Key Vault for the LMS
// secrets. Deployed with `azd up`; walkthrough in docs/deploy.md.
//
// Unvalidated source: no Bicep compiler was available where this was written (see infra/README.md).
// test/unit/infra.test.ts checks what can be checked without one.
//
// Every app setting has a parameter fed by the azd environment variable of the same name
// (infra/main.parameters.json): `azd env set SYNC_SCHEDULE '0 0 * * * *'` then `azd provision`.
// An empty string means "the app's own default" (the app treats an empty setting as unset).

targetScope = 'subscription'

// ------------------------------------------------------------------------------------------
// azd
// ------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: names the resource group and seeds the resource token.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer the Flex Consumption plan.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the user or service principal running azd. It gets Storage Table Data Contributor (for `viva-sync status`) and Key Vault Secrets Officer (to set or rotate the LMS secrets). Empty: no such grants.')
param principalId string = ''

@description('E-mail address of the operator who receives the alerts (a failed run, a quarantine, dead letters growing over a day, no successful pass for two schedule periods). Empty: the workbook only, no alert rules.')
param alertEmail string = ''

@allowed(['User', 'ServicePrincipal'])
@description('Kind of principalId.')
param principalType string = 'User'

// ------------------------------------------------------------------------------------------
// The Function App's scale
// ------------------------------------------------------------------------------------------

@minValue(40)
@maxValue(1000)
@description('Flex Consumption maximumInstanceCount: 40 (the documented lowest value) to 1000. The timer runs as one instance; HTTP triggers and, with SYNC_MODE=queue, the queue workers scale out up to this (each instance runs host.json queues.batchSize batches at once).')
param maximumInstanceCount int = 40

@allowed([2048, 4096])
@description('Flex Consumption instanceMemoryMB.')
param instanceMemoryMB int = 2048

// ------------------------------------------------------------------------------------------
// The sync's settings (README.md "Settings"); each is the app setting of the same name
// ------------------------------------------------------------------------------------------

@description('VIVA_PROVIDER_ID: the learning provider registration id. May stay empty until the provider is registered; every run then fails with "VIVA_PROVIDER_ID is required".')
param vivaProviderId string = ''

@description('SYNC_SCHEDULE: NCRONTAB of the timer, UTC, six fields. Empty: every 15 minutes.')
param syncSchedule string = ''

@allowed(['', 'file', 'xapi', 'oneroster', 'canvas', 'moodle'])
@description('LMS_ADAPTER. file: exports dropped in Blob Storage (LMS_FILE_PATH, or the SFTP drop with enableSftpDrop); the others: an LMS API. Empty (the default, so `azd up --no-prompt` works before the LMS is chosen): the app deploys, and every run, and `viva-sync doctor`, says "LMS_ADAPTER is required" until it is set.')
param lmsAdapter string = ''

@description('LMS_FILE_PATH: for LMS_ADAPTER=file, a Blob Storage URL, a blob or a folder ending in / (README "Exports in Blob Storage"). Empty with enableSftpDrop: the drop\'s lms-exports container.')
param lmsFilePath string = ''

@description('LMS_MAPPING_PATH: for LMS_ADAPTER=file, a column map in the deployed folder (relative to the app root), for a vendor export. Empty: the canonical format.')
param lmsMappingPath string = ''

@description('LMS_EXPORT_SETTLE_SECONDS: a blob is read once unchanged this long. Empty: 30.')
param lmsExportSettleSeconds string = ''

@description('LMS_EXPORT_DONE_SUFFIX: read an export only once the marker <name><suffix> exists (e.g. .done). Empty: no marker.')
param lmsExportDoneSuffix string = ''

@description('Create the SFTP drop: a separate storage account (hierarchical namespace, SFTP) with the container lms-exports and an SSH-key local user for the LMS (docs/deploy.md).')
param enableSftpDrop bool = false

@description('With enableSftpDrop: the LMS\'s SSH public key (one line, ssh-ed25519 or ssh-rsa).')
param sftpPublicKey string = ''

@description('With enableSftpDrop: the SFTP local user the LMS connects as.')
param sftpUserName string = 'lms'

@description('With enableSftpDrop: subscribe the exportLanded function to new exports (set it once `azd deploy` has deployed the code; until then the timer reads new exports).')
param exportEventsSubscribe bool = false

@description('LMS_BASE_URL: the LMS API root (https).')
param lmsBaseUrl string = ''

@description('LMS_CLIENT_ID (OneRoster OAuth 2 client credentials).')
param lmsClientId string = ''

@description('LMS_TOKEN_URL (OneRoster OAuth 2 token endpoint).')
param lmsTokenUrl string = ''

@description('LMS_USERNAME (xAPI LRS key).')
param lmsUsername string = ''

@description('LMS_COURSE_IDS: comma-separated LMS course ids to sync (Canvas, Moodle). Empty: all active courses.')
param lmsCourseIds string = ''

@description('LMS_CANVAS_ACCOUNT_ID: Canvas account whose active courses are listed when LMS_COURSE_IDS is empty (default self).')
param lmsCanvasAccountId string = ''

@description('LMS_ASSIGNMENT_TYPE: required or recommended, for assignments from LMSs that do not say (default required).')
param lmsAssignmentType string = ''

@description('LMS_MOODLE_REPORT_ID: a Moodle Report builder report to read instead of walking courses.')
param lmsMoodleReportId string = ''

@description('LMS_XAPI_COMPLETED_VERBS: xAPI verbs that complete a course (a leading + adds to the defaults).')
param lmsXapiCompletedVerbs string = ''

@description('LMS_XAPI_STARTED_VERBS: xAPI verbs that start a course.')
param lmsXapiStartedVerbs string = ''

@description('LMS_XAPI_ENROLLED_VERBS: xAPI verbs that enrol or assign.')
param lmsXapiEnrolledVerbs string = ''

@description('LMS_XAPI_WITHDRAWN_VERBS: xAPI verbs that withdraw.')
param lmsXapiWithdrawnVerbs string = ''

@description('LMS_XAPI_PROGRESS_EXTENSIONS: where xAPI progress is read, in order.')
param lmsXapiProgressExtensions string = ''

@description('LMS_XAPI_DUE_DAYS: due date = assigned date + N days (xAPI).')
param lmsXapiDueDays string = ''

@description('LMS_ONEROSTER_VERSION: 1.2 or 1.1 (default 1.2).')
param lmsOnerosterVersion string = ''

@description('LMS_ONEROSTER_FULL_PULL: true for providers whose dateLastModified filter is broken.')
param lmsOnerosterFullPull string = ''

@description('LMS_ONEROSTER_GRADEBOOK: take progress from OneRoster Gradebook results (default true).')
param lmsOnerosterGradebook string = ''

@description('LMS_ONEROSTER_COURSE_URL: course link template with {classSourcedId} / {courseSourcedId}.')
param lmsOnerosterCourseUrl string = ''

@description('LMS_ONEROSTER_SCOPE: OAuth scopes to request from OneRoster.')
param lmsOnerosterScope string = ''

@secure()
@description('LMS_CLIENT_SECRET, stored in Key Vault when given.')
param lmsClientSecret string = ''

@secure()
@description('LMS_PASSWORD (xAPI LRS secret), stored in Key Vault when given.')
param lmsPassword string = ''

@secure()
@description('LMS_TOKEN (Canvas or Moodle token), stored in Key Vault when given.')
param lmsToken string = ''

@secure()
@description('WEBHOOK_SECRET (whsec_...), stored in Key Vault when given.')
param webhookSecret string = ''

@description('Comma-separated names among LMS_CLIENT_SECRET, LMS_PASSWORD, LMS_TOKEN, WEBHOOK_SECRET whose Key Vault secret you set yourself (az keyvault secret set): the app setting then references the vault even though no value is passed here.')
param secretsManagedInKeyVault string = ''

@allowed(['', 'v1.0', 'beta'])
@description('GRAPH_API_VERSION. Empty: v1.0.')
param graphApiVersion string = ''

@description('GRAPH_MAX_CONCURRENCY: Graph requests in flight at most. Empty: the app default.')
param graphMaxConcurrency string = ''

@description('GRAPH_MAX_RPS: a ceiling on Graph requests per second. Empty: none until Graph throttles.')
param graphMaxRps string = ''

@description('GRAPH_BATCH_SIZE: requests per JSON batch. Empty: the app default.')
param graphBatchSize string = ''

@description('GRAPH_REQUEST_TIMEOUT_SECONDS. Empty: the app default.')
param graphRequestTimeoutSeconds string = ''

@allowed(['', 'userPrincipalName', 'mail', 'employeeId', 'id'])
@description('LEARNER_MATCH. Empty: userPrincipalName.')
param learnerMatch string = ''

@maxLength(41)
@description('SYNC_TABLE_PREFIX: letters and digits, starting with a letter. Empty: vivasync.')
param syncTablePrefix string = ''

@description('SYNC_TIME_BUDGET_SECONDS. Empty: derived from host.json functionTimeout.')
param syncTimeBudgetSeconds string = ''

@description('SYNC_LOOKBACK_SECONDS. Empty: the app default (3600).')
param syncLookbackSeconds string = ''

@description('SYNC_QUARANTINE_FAILURE_SHARE: a run whose writes fail more than this share (0..1) quarantines the sync. Empty: 0.4.')
param syncQuarantineFailureShare string = ''

@description('SYNC_QUARANTINE_MAX_DELETES: a run that would delete more activities than this quarantines the sync. Empty: 500.')
param syncQuarantineMaxDeletes string = ''

@allowed(['', 'inline', 'queue'])
@description('SYNC_MODE. Empty: inline.')
param syncMode string = ''

@description('SYNC_QUEUE_NAME: the work queue of queue mode (and <name>-poison). Empty: vivasync-work.')
param syncQueueName string = ''

@allowed(['', 'all', 'enrolled'])
@description('SYNC_CATALOG: all (every course the LMS lists becomes Viva Learning content) or enrolled (only courses with enrollments). Empty: all, where the adapter can list courses.')
param syncCatalog string = ''

@description('LMS_CATALOG_PATH: for LMS_ADAPTER=file, the course catalog export (.jsonl or .csv), in the same forms as LMS_FILE_PATH (a Blob Storage URL: a blob, or a folder whose newest complete export is read). Empty: no catalog.')
param lmsCatalogPath string = ''

@allowed(['', 'changes', 'snapshot'])
@description('LMS_EXPORT_MODE: for LMS_ADAPTER=file, changes (withdrawals carry deleted: true) or snapshot (each export is every current enrollment; one missing from a complete export is withdrawn). Empty: changes.')
param lmsExportMode string = ''

// The queue triggers bind to %SYNC_QUEUE_NAME% in every mode, so the setting is never empty.
var workQueueName = empty(syncQueueName) ? 'vivasync-work' : syncQueueName

// ------------------------------------------------------------------------------------------
// Names
// ------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'
var tablePrefix = empty(syncTablePrefix) ? 'vivasync' : syncTablePrefix
var exportDropName = 'stdrop${resourceToken}'
var exportContainerName = 'lms-exports'
// LMS_FILE_PATH: as given, else (with the SFTP drop) every export in the drop's container.
var exportFilePath = !empty(lmsFilePath) ? lmsFilePath : (enableSftpDrop ? 'https://${exportDropName}.blob.${environment().suffixes.storage}/${exportContainerName}/' : '')

// Settings whose value is a Key Vault reference: the secrets passed now, plus those set by hand.
var providedSecrets = [
  empty(lmsClientSecret) ? '' : 'LMS_CLIENT_SECRET'
  empty(lmsPassword) ? '' : 'LMS_PASSWORD'
  empty(lmsToken) ? '' : 'LMS_TOKEN'
  empty(webhookSecret) ? '' : 'WEBHOOK_SECRET'
]
var manualSecrets = map(split(secretsManagedInKeyVault, ','), s => trim(s))
var keyVaultSecretSettings = filter(union(providedSecrets, manualSecrets), s => !empty(s))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

// The app's identity comes first: its grants (module rbac) are made before the app exists.
module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
  }
}

module observability 'app/observability.bicep' = {
  name: 'observability'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    alertEmail: alertEmail
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    tablePrefix: tablePrefix
    queueName: workQueueName
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    lmsClientSecret: lmsClientSecret
    lmsPassword: lmsPassword
    lmsToken: lmsToken
    webhookSecret: webhookSecret
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  // Grants first: Key Vault references then resolve on the first start, and the first package
  // upload (written with the identity) is not refused while the storage roles are being granted.
  dependsOn: [
    rbac
  ]
  params: {
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    keyVaultSecretSettings: keyVaultSecretSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    vivaProviderId: vivaProviderId
    syncSchedule: syncSchedule
    lmsAdapter: lmsAdapter
    lmsFilePath: exportFilePath
    lmsMappingPath: lmsMappingPath
    lmsExportSettleSeconds: lmsExportSettleSeconds
    lmsExportDoneSuffix: lmsExportDoneSuffix
    lmsBaseUrl: lmsBaseUrl
    lmsClientId: lmsClientId
    lmsTokenUrl: lmsTokenUrl
    lmsUsername: lmsUsername
    lmsCourseIds: lmsCourseIds
    lmsCanvasAccountId: lmsCanvasAccountId
    lmsAssignmentType: lmsAssignmentType
    lmsMoodleReportId: lmsMoodleReportId
    lmsXapiCompletedVerbs: lmsXapiCompletedVerbs
    lmsXapiStartedVerbs: lmsXapiStartedVerbs
    lmsXapiEnrolledVerbs: lmsXapiEnrolledVerbs
    lmsXapiWithdrawnVerbs: lmsXapiWithdrawnVerbs
    lmsXapiProgressExtensions: lmsXapiProgressExtensions
    lmsXapiDueDays: lmsXapiDueDays
    lmsOnerosterVersion: lmsOnerosterVersion
    lmsOnerosterFullPull: lmsOnerosterFullPull
    lmsOnerosterGradebook: lmsOnerosterGradebook
    lmsOnerosterCourseUrl: lmsOnerosterCourseUrl
    lmsOnerosterScope: lmsOnerosterScope
    graphApiVersion: graphApiVersion
    graphMaxConcurrency: graphMaxConcurrency
    graphMaxRps: graphMaxRps
    graphBatchSize: graphBatchSize
    graphRequestTimeoutSeconds: graphRequestTimeoutSeconds
    learnerMatch: learnerMatch
    syncTablePrefix: tablePrefix
    syncTimeBudgetSeconds: syncTimeBudgetSeconds
    syncLookbackSeconds: syncLookbackSeconds
    syncQuarantineFailureShare: syncQuarantineFailureShare
    syncQuarantineMaxDeletes: syncQuarantineMaxDeletes
    syncMode: syncMode
    syncQueueName: workQueueName
    syncCatalog: syncCatalog
    lmsCatalogPath: lmsCatalogPath
    lmsExportMode: lmsExportMode
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

// The SFTP drop and the event that starts a pass when an export lands (LMS_ADAPTER=file).
module exportDrop 'app/exportDrop.bicep' = if (enableSftpDrop) {
  name: 'exportDrop'
  scope: rg
  params: {
    name: exportDropName
    location: location
    tags: tags
    containerName: exportContainerName
    sftpUserName: sftpUserName
    sftpPublicKey: sftpPublicKey
    appPrincipalId: identity.outputs.principalId
  }
}

module exportEvents 'app/exportEvents.bicep' = if (enableSftpDrop) {
  name: 'exportEvents'
  scope: rg
  params: {
    location: location
    tags: tags
    storageAccountName: exportDropName
    containerName: exportContainerName
    functionAppName: api.outputs.name
    subscribe: exportEventsSubscribe
  }
  dependsOn: [
    exportDrop
  ]
}

// Outputs become azd environment values (`azd env get-values`).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_FUNCTION_URL string = api.outputs.url
output AZURE_FUNCTION_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output LMS_EXPORT_SFTP_HOST string = enableSftpDrop ? '${exportDropName}.blob.${environment().suffixes.storage}' : ''
output LMS_EXPORT_SFTP_LOGIN string = enableSftpDrop ? '${exportDropName}.${sftpUserName}' : ''
