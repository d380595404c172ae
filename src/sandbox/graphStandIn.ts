/**
 * The local Viva Learning (Microsoft Graph) stand-in: a real HTTP server that follows the
 * employee-learning documentation (shared/reference/graph-learning-*.md) so the production Graph
 * client runs unchanged against it in tests and in the `npm start` sandbox.
 */

export { GraphStandIn } from './graphStandIn/server.js';
export { MESSAGES as STAND_IN_MESSAGES } from './graphStandIn/replies.js';
export { stableContentId } from './graphStandIn/odata.js';
export type {
  ActivityODataType,
  ActivityRecord,
  AssignmentType,
  BodyType,
  ContentLevel,
  ContentRecord,
  CourseStatus,
  DateTimeTimeZoneRecord,
  FaultKind,
  FaultOptions,
  FaultRequest,
  GraphStandInOptions,
  ItemBodyRecord,
  JsonObject,
  JsonValue,
  LearningAssignmentRecord,
  LearningSelfInitiatedCourseRecord,
  ProviderRecord,
  RateLimitOptions,
  RecordedRequest,
  SelfInitiatedCourseStatus,
  StandInContent,
  StandInProvider,
  StandInState,
  StandInStats,
  StandInUser,
} from './graphStandIn/types.js';
