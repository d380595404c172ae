// What an operator sees in Azure Monitor: a workbook with the views of the status page (GET /api/status)
// and alert rules (a failed run, a quarantine, dead letters growing over a day, no successful pass for
// two schedule periods) sent to an action group that e-mails `alertEmail`.
//
// The queries read the engine's log lines, which the Functions host writes to Application Insights
// `traces` as "<message> <JSON fields>" (functions/contextLogger.ts). The messages they match are
// checked against src/sync/engine.ts and src/sync/pending.ts by test/unit/infra.test.ts.

param location string
param tags object
param applicationInsightsName string

@description('E-mail address the alerts go to. Empty: the workbook is deployed, the alert rules and the action group are not.')
param alertEmail string = ''

@minValue(1)
@maxValue(1440)
@description('Minutes between two scheduled passes (SYNC_SCHEDULE); "no successful pass" fires after twice this.')
param schedulePeriodMinutes int = 15

@description('Dead letters recorded in one day above which the "dead letters growing" alert fires.')
param deadLetterDailyThreshold int = 0

var withAlerts = !empty(alertEmail)

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One row per finished run: the fields the engine logs with "Sync run finished".
var runsQuery = 'traces | where message startswith "Sync run finished {" | extend d = parse_json(substring(message, indexof(message, "{"))) | project timestamp, runId = tostring(d.runId), status = tostring(d.status), read = toint(d.read), created = toint(d.created), updated = toint(d.updated), deleted = toint(d.deleted), unchanged = toint(d.unchanged), failed = toint(d.failed), durationMs = toint(d.durationMs), graphRequests = toint(d.graphRequests), graphRetries = toint(d.graphRetries), graphThrottled = toint(d.graphThrottled)'
var failedRunsQuery = 'traces | where message startswith "Sync run failed {" or (message startswith "Sync run finished {" and tostring(parse_json(substring(message, indexof(message, "{"))).status) == "failed") | project timestamp, message'
var quarantineQuery = 'traces | where message startswith "Quarantining the sync {" or message startswith "The sync is quarantined; skipping this pass {" | project timestamp, message'
var deadLettersQuery = 'traces | where message startswith "Record dead-lettered {" or message startswith "Record refused {" | extend d = parse_json(substring(message, indexof(message, "{"))) | extend reason = replace_regex(tostring(d.reason), "[^ ]+@[^ ]+|[0-9]+", "…")'
var successQuery = '${runsQuery} | where status in ("succeeded", "partial")'

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsightsName, 'viva-sync-status')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Viva Learning sync: status'
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: string({
      version: 'Notebook/1.0'
      items: [
        {
          type: 1
          name: 'intro'
          content: { json: '## Viva Learning sync\nThe views of the status page (`GET /api/status`, `viva-sync report`) over the app\'s telemetry: runs, failures, dead letters by reason, the quarantine and Graph traffic.' }
        }
        {
          type: 3
          name: 'runs-chart'
          content: {
            version: 'KqlItem/1.0'
            title: 'Runs: records written per run'
            query: '${runsQuery} | project timestamp, created, updated, deleted, failed'
            size: 0
            timeContext: { durationMs: 604800000 }
            queryType: 0
            resourceType: 'microsoft.insights/components'
            visualization: 'barchart'
          }
        }
        {
          type: 3
          name: 'runs-table'
          content: {
            version: 'KqlItem/1.0'
            title: 'Last 50 runs'
            query: '${runsQuery} | top 50 by timestamp desc'
            size: 0
            timeContext: { durationMs: 604800000 }
            queryType: 0
            resourceType: 'microsoft.insights/components'
            visualization: 'table'
          }
        }
        {
          type: 3
          name: 'failed-runs'
          content: {
            version: 'KqlItem/1.0'
            title: 'Failed runs'
            query: '${failedRunsQuery} | top 20 by timestamp desc'
            size: 0
            timeContext: { durationMs: 604800000 }
            queryType: 0
            resourceType: 'microsoft.insights/components'
            visualization: 'table'
          }
        }
        {
          type: 3
          name: 'dead-letters'
          content: {
            version: 'KqlItem/1.0'
            title: 'Dead letters by reason (retry with viva-sync deadletters retry --all)'
            query: '${deadLettersQuery} | summarize count = count(), oldest = min(timestamp), sample = take_any(tostring(d.key)) by reason | order by count desc'
            size: 0
            timeContext: { durationMs: 604800000 }
            queryType: 0
            resourceType: 'microsoft.insights/components'
            visualization: 'table'
          }
        }
        {
          type: 3
          name: 'quarantine'
          content: {
            version: 'KqlItem/1.0'
            title: 'Quarantine (clear with viva-sync quarantine clear)'
            query: '${quarantineQuery} | top 20 by timestamp desc'
            size: 0
            timeContext: { durationMs: 604800000 }
            queryType: 0
            resourceType: 'microsoft.insights/components'
            visualization: 'table'
          }
        }
        {
          type: 3
          name: 'graph'
          content: {
            version: 'KqlItem/1.0'
            title: 'Graph requests, retries and throttling per run'
            query: '${runsQuery} | project timestamp, graphRequests, graphRetries, graphThrottled'
            size: 0
            timeContext: { durationMs: 604800000 }
            queryType: 0
            resourceType: 'microsoft.insights/components'
            visualization: 'linechart'
          }
        }
      ]
    })
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (withAlerts) {
  name: 'ag-vivasync-${uniqueString(resourceGroup().id)}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'vivasync'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alertRules = [
  {
    name: 'failed-run'
    displayName: 'Viva Learning sync: a run failed'
    severity: 1
    query: failedRunsQuery
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT15M'
    window: 'PT15M'
  }
  {
    name: 'quarantine'
    displayName: 'Viva Learning sync: the sync is quarantined (viva-sync quarantine show)'
    severity: 1
    query: quarantineQuery
    operator: 'GreaterThan'
    threshold: 0
    frequency: 'PT15M'
    window: 'PT30M'
  }
  {
    name: 'dead-letters-growing'
    displayName: 'Viva Learning sync: dead letters grew over the last day'
    severity: 2
    query: deadLettersQuery
    operator: 'GreaterThan'
    threshold: deadLetterDailyThreshold
    frequency: 'PT1H'
    window: 'P1D'
  }
  {
    name: 'no-success'
    displayName: 'Viva Learning sync: no successful pass for two schedule periods'
    severity: 1
    query: successQuery
    operator: 'Equal'
    threshold: 0
    frequency: 'PT15M'
    window: 'PT${2 * schedulePeriodMinutes}M'
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for rule in alertRules: if (withAlerts) {
  name: 'alert-vivasync-${rule.name}-${uniqueString(resourceGroup().id)}'
  location: location
  tags: tags
  properties: {
    displayName: rule.displayName
    severity: rule.severity
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: rule.frequency
    windowSize: rule.window
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: rule.operator
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}]

output workbookId string = workbook.id
output alertRuleCount int = withAlerts ? length(alertRules) : 0
