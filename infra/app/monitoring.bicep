// Log Analytics workspace and a workspace-based Application Insights component. Local
// (instrumentation-key) authentication is off: the app sends telemetry with its managed identity
// (Monitoring Metrics Publisher, infra/app/rbac.bicep; APPLICATIONINSIGHTS_AUTHENTICATION_STRING,
// infra/app/api.bicep).

param location string
param tags object
param logAnalyticsName string
param applicationInsightsName string

@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = appInsights.name
output connectionString string = appInsights.properties.ConnectionString
output logAnalyticsName string = logAnalytics.name
