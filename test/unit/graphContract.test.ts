/**
 * Every body the connector can build, as the gateway sends it, validates against Graph's
 * metadata (the stand-in's validator reads src/sandbox/graphStandIn/metadata/graph-learning-csdl.xml
 * at run time); the shipped metadata copy equals the shared reference copy; key encoding is
 * reversible and leaves every id without '/' unchanged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { activityCreateBody, activityUpdateBody, contentUpsertBody } from '../../src/graph/graphBodies.js';
import { externalIdKey, fromGraphExternalId, odataKey, toGraphExternalId } from '../../src/graph/odata.js';
import type { Enrollment } from '../../src/mapping/enrollment.js';
import { fingerprint } from '../../src/mapping/fingerprint.js';
import { toActivityBody, toActivityDraft } from '../../src/mapping/toActivity.js';
import { contentFingerprint, toContentBody } from '../../src/mapping/toContent.js';
import { METADATA_FILE, parseCsdl } from '../../src/sandbox/graphStandIn/csdl.js';
import {
  activityType,
  isReply,
  validateActivityCreate,
  validateActivityUpdate,
  validateContent,
} from '../../src/sandbox/graphStandIn/validate.js';
import type { ActivityRecord, JsonObject } from '../../src/sandbox/graphStandIn/types.js';
import { aCourse, anEnrollment } from '../support/builders.js';

const PROVIDER = '01e8f81b-3060-4dec-acf0-0389665a0a38';
const IDS = { learnerUserId: '7ba2228a-e020-11ec-9d64-0242ac120002', learningContentId: '57baf9dc-e020-11ec-9d64-0242ac120002' };
const ASSIGNER = 'cea1684d-57dc-438d-a9d1-e666ec1a7f3d';
const SHARED_CSDL = resolve(fileURLToPath(import.meta.url), '../../../../shared/reference/graph-learning-csdl.xml');

function json(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

function errorMessage(value: unknown): string {
  return isReply(value) && value.kind === 'error' ? value.message : 'accepted';
}

/** Every combination of source, status and optional field the mapping can produce. */
function everyEnrollment(): Enrollment[] {
  const out: Enrollment[] = [];
  for (const status of ['notStarted', 'inProgress', 'completed'] as const) {
    for (const withOptional of [true, false]) {
      const optional = withOptional
        ? { progressPercent: status === 'completed' ? 100 : 40, completedAt: status === 'completed' ? '2026-11-02T10:00:00.000Z' : undefined }
        : { progressPercent: undefined, assignedAt: undefined, dueAt: undefined, startedAt: undefined, assigner: undefined };
      for (const assignmentType of ['required', 'recommended'] as const) {
        out.push(anEnrollment({ status, assignmentType, ...optional }));
      }
      if (status !== 'notStarted') {
        out.push(anEnrollment({ source: 'selfInitiated', assignmentType: undefined, assigner: undefined, assignedAt: undefined, dueAt: undefined, status, ...optional }));
      }
    }
  }
  return out;
}

describe('the metadata the stand-in reads', () => {
  it.runIf(existsSync(SHARED_CSDL))('is a byte-for-byte copy of ../shared/reference/graph-learning-csdl.xml', () => {
    expect(readFileSync(METADATA_FILE, 'utf8')).toBe(readFileSync(SHARED_CSDL, 'utf8'));
  });

  it('declares the types the connector writes, with their Nullable="false" properties', () => {
    const model = parseCsdl(readFileSync(METADATA_FILE, 'utf8'));
    const required = (name: string): string[] =>
      [...(model.structured(name)?.properties.values() ?? [])].filter((p) => !p.nullable && p.name !== 'id').map((p) => p.name);
    expect(required('learningContent').sort()).toEqual(['contentWebUrl', 'externalId', 'languageTag', 'title']);
    expect(required('learningAssignment').sort()).toEqual(['assignmentType', 'learnerUserId', 'learningContentId']);
    expect(required('learningSelfInitiatedCourse').sort()).toEqual(['learnerUserId', 'learningContentId']);
    expect(required('learningProvider')).toHaveLength(5);
    expect(required('dateTimeTimeZone')).toEqual(['dateTime']);
    expect(model.enumType('courseStatus')?.members).toContain('notStarted');
    expect(model.derivesFrom('learningAssignment', 'learningCourseActivity')).toBe(true);
  });
});

describe('every activity body the connector builds validates against the metadata', () => {
  const enrollments = everyEnrollment();

  it.each(enrollments.map((e) => [`${e.source} ${e.status} ${'assignmentType' in e ? e.assignmentType : ''} ${e.progressPercent === undefined ? 'minimal' : 'all optional'}`, e] as const))(
    '%s: POST and PATCH',
    (_label, enrollment) => {
      const result = toActivityDraft(enrollment, 'userPrincipalName');
      if (!result.ok) throw new Error(result.reason);
      const body = toActivityBody(result.draft, { ...IDS, ...(enrollment.assigner ? { assignerUserId: ASSIGNER } : {}) }, PROVIDER);
      const create = json(activityCreateBody(body));
      const type = activityType(create);
      expect(errorMessage(type)).toBe('accepted');
      if (isReply(type)) return;
      const created = validateActivityCreate(create, type, PROVIDER);
      expect(errorMessage(created)).toBe('accepted');
      if (isReply(created)) return;
      const stored = { ...created, id: `${IDS.learnerUserId}:1` } as ActivityRecord;
      const updated = validateActivityUpdate(json(activityUpdateBody(body)), type, stored, PROVIDER);
      expect(errorMessage(updated)).toBe('accepted');
    },
  );

  it('PATCH bodies of ids Graph stores escaped leave externalCourseActivityId out, and still validate', () => {
    const result = toActivityDraft(anEnrollment({ enrollmentId: 'term/2026/e-1' }), 'userPrincipalName');
    if (!result.ok) throw new Error(result.reason);
    const body = toActivityBody(result.draft, IDS, PROVIDER);
    expect(activityCreateBody(body).externalCourseActivityId).toBe('~~term~2F2026~2Fe-1');
    const patch = json(activityUpdateBody(body));
    expect(patch).not.toHaveProperty('externalCourseActivityId');
    const stored = { ...(validateActivityCreate(json(activityCreateBody(body)), '#microsoft.graph.learningAssignment', PROVIDER) as object), id: 'x' } as ActivityRecord;
    expect(errorMessage(validateActivityUpdate(patch, '#microsoft.graph.learningAssignment', stored, PROVIDER))).toBe('accepted');
  });
});

describe('every content body the connector builds validates against the metadata', () => {
  it.each([
    ['every optional field', aCourse({ id: 'c/1 é', description: 'd', durationMinutes: 90, thumbnailUrl: 'https://x.example/t.png', language: 'de-DE' })],
    ['no optional field', { id: 'c-2', title: 'T', url: 'https://x.example/c' }],
    ['zero minutes', aCourse({ durationMinutes: 0 })],
  ] as const)('%s', (_label, course) => {
    const body = json(contentUpsertBody(course.id, toContentBody(course)));
    expect(body.externalId).toBe(toGraphExternalId(course.id));
    expect(errorMessage(validateContent(body, toGraphExternalId(course.id), 'id-1'))).toBe('accepted');
  });

  it('the old body without externalId is refused', () => {
    const { externalId: _dropped, ...old } = toContentBody(aCourse());
    expect(errorMessage(validateContent(json(old), 'c-sec-101', 'id-1'))).toBe('Input field externalId is required');
  });

  it('keeps the fingerprints recorded before externalId was sent in the body', () => {
    const body = toContentBody(aCourse());
    const { externalId: _key, ...before } = body;
    expect(contentFingerprint(body)).toBe(fingerprint(before));
  });
});

describe('key encoding', () => {
  const ids = ["o'brien", 'a b', 'x#1', 'q?1', '100%', '50%2F', 'a:b', 'é-ü-漢字', 'course/101', 'a~b/c', '~~already', '~x', 'a~2Fb', '/'];

  it('leaves every id without "/" (and not starting with "~~") exactly as it was sent before', () => {
    for (const id of ids.filter((i) => !i.includes('/') && !i.startsWith('~~'))) expect(toGraphExternalId(id)).toBe(id);
  });

  it('escapes ids with "/" reversibly and one-to-one', () => {
    expect(toGraphExternalId('course/101')).toBe('~~course~2F101');
    expect(toGraphExternalId('a~b/c')).toBe('~~a~7Eb~2Fc');
    const wire = ids.map(toGraphExternalId);
    expect(new Set(wire).size).toBe(ids.length);
    for (const [i, id] of ids.entries()) {
      expect(wire[i]).not.toContain('/');
      expect(fromGraphExternalId(wire[i] ?? '')).toBe(id);
    }
  });

  it('quotes, doubles quotes and percent-encodes key literals as the SDKs do', () => {
    expect(odataKey("o'brien")).toBe("'o''brien'");
    expect(externalIdKey('a b#?%:é')).toBe("'a%20b%23%3F%25%3A%C3%A9'");
    expect(externalIdKey('course/101')).toBe("'~~course~2F101'");
  });
});
