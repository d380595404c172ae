/**
 * The stand-in's state: providers, contents, activities and users, with the indexes the routes
 * need (activities by id and by (provider, externalCourseActivityId); contents by id and by
 * (provider, externalId); users by id, userPrincipalName, mail and employeeId). Ids are compared
 * case-insensitively (they are GUIDs, or GUID:GUID for activities); external ids exactly.
 */

import type { ActivityRecord, ContentRecord, ProviderRecord, StandInUser } from './types.js';

interface StoredContent {
  providerKey: string;
  record: ContentRecord;
}

interface StoredActivity {
  providerKey: string;
  record: ActivityRecord;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function pull<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) return;
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(key);
}

const key = (id: string): string => id.toLowerCase();
const extKey = (providerKey: string, externalId: string): string => `${providerKey}\u0000${externalId}`;

export class StandInStore {
  private readonly providers = new Map<string, ProviderRecord>();
  private readonly contents = new Map<string, StoredContent>();
  private readonly contentsByExternal = new Map<string, string>();
  private readonly activitiesById = new Map<string, StoredActivity>();
  private readonly activitiesByExternal = new Map<string, string[]>();
  private readonly users = new Map<string, StandInUser>();
  private readonly usersByUpn = new Map<string, StandInUser>();
  private readonly usersByMail = new Map<string, StandInUser[]>();
  private readonly usersByEmployeeId = new Map<string, StandInUser[]>();

  // --- providers -------------------------------------------------------------------------------

  provider(id: string): ProviderRecord | undefined {
    return this.providers.get(key(id));
  }

  allProviders(): ProviderRecord[] {
    return [...this.providers.values()];
  }

  putProvider(record: ProviderRecord): void {
    this.providers.set(key(record.id), record);
  }

  /** Removes the provider with its contents and activities. */
  deleteProvider(id: string): boolean {
    const pk = key(id);
    if (!this.providers.delete(pk)) return false;
    for (const [cid, c] of [...this.contents]) {
      if (c.providerKey === pk) {
        this.contents.delete(cid);
        this.contentsByExternal.delete(extKey(pk, c.record.externalId));
      }
    }
    for (const a of [...this.activitiesById.values()]) {
      if (a.providerKey === pk) this.deleteActivity(a.record.id);
    }
    return true;
  }

  // --- contents --------------------------------------------------------------------------------

  /** A content by Viva id, with the registrationId (lower-cased) it belongs to. */
  contentById(id: string): StoredContent | undefined {
    return this.contents.get(key(id));
  }

  contentByExternalId(providerId: string, externalId: string): ContentRecord | undefined {
    const id = this.contentsByExternal.get(extKey(key(providerId), externalId));
    return id === undefined ? undefined : this.contents.get(id)?.record;
  }

  contentsOf(providerId?: string): ContentRecord[] {
    const pk = providerId === undefined ? undefined : key(providerId);
    const out: ContentRecord[] = [];
    for (const c of this.contents.values()) if (pk === undefined || c.providerKey === pk) out.push(c.record);
    return out;
  }

  putContent(providerId: string, record: ContentRecord): void {
    const pk = key(providerId);
    const previous = this.contents.get(key(record.id));
    if (previous && previous.record.externalId !== record.externalId) {
      this.contentsByExternal.delete(extKey(previous.providerKey, previous.record.externalId));
    }
    this.contents.set(key(record.id), { providerKey: pk, record });
    this.contentsByExternal.set(extKey(pk, record.externalId), key(record.id));
  }

  deleteContent(id: string): boolean {
    const c = this.contents.get(key(id));
    if (!c) return false;
    this.contents.delete(key(id));
    this.contentsByExternal.delete(extKey(c.providerKey, c.record.externalId));
    return true;
  }

  // --- activities ------------------------------------------------------------------------------

  activity(id: string): StoredActivity | undefined {
    return this.activitiesById.get(key(id));
  }

  /** The first stored activity with this externalCourseActivityId under the provider. */
  activityByExternalId(providerId: string, externalId: string): ActivityRecord | undefined {
    const ids = this.activitiesByExternal.get(extKey(key(providerId), externalId));
    const first = ids?.[0];
    return first === undefined ? undefined : this.activitiesById.get(first)?.record;
  }

  activitiesOf(providerId?: string): ActivityRecord[] {
    const pk = providerId === undefined ? undefined : key(providerId);
    const out: ActivityRecord[] = [];
    for (const a of this.activitiesById.values()) if (pk === undefined || a.providerKey === pk) out.push(a.record);
    return out;
  }

  get activityCount(): number {
    return this.activitiesById.size;
  }

  /** Adds a new activity, or replaces one with the same id (its externalCourseActivityId unchanged). */
  putActivity(providerId: string, record: ActivityRecord): void {
    const pk = key(providerId);
    const k = key(record.id);
    const existing = this.activitiesById.get(k);
    this.activitiesById.set(k, { providerKey: pk, record });
    if (!existing && record.externalCourseActivityId !== null) {
      push(this.activitiesByExternal, extKey(pk, record.externalCourseActivityId), k);
    }
  }

  deleteActivity(id: string): boolean {
    const k = key(id);
    const a = this.activitiesById.get(k);
    if (!a) return false;
    this.activitiesById.delete(k);
    if (a.record.externalCourseActivityId !== null) {
      pull(this.activitiesByExternal, extKey(a.providerKey, a.record.externalCourseActivityId), k);
    }
    return true;
  }

  // --- users -----------------------------------------------------------------------------------

  putUser(user: StandInUser): void {
    const previous = this.users.get(key(user.id));
    if (previous) {
      this.usersByUpn.delete(key(previous.userPrincipalName));
      if (previous.mail !== undefined) pull(this.usersByMail, key(previous.mail), previous);
      if (previous.employeeId !== undefined) pull(this.usersByEmployeeId, key(previous.employeeId), previous);
    }
    const copy: StandInUser = { ...user };
    this.users.set(key(copy.id), copy);
    this.usersByUpn.set(key(copy.userPrincipalName), copy);
    if (copy.mail !== undefined) push(this.usersByMail, key(copy.mail), copy);
    if (copy.employeeId !== undefined) push(this.usersByEmployeeId, key(copy.employeeId), copy);
  }

  userById(id: string): StandInUser | undefined {
    return this.users.get(key(id));
  }

  /** `/users/{id | userPrincipalName}`. */
  /**
   * Sandbox only: makes up the user a lookup asks for, as if the tenant had every person the
   * LMS names (see GraphStandInOptions.provisionUser). Undefined: the user stays unknown.
   */
  provisionUser: ((lookup: { property: 'id' | 'userPrincipalName' | 'mail' | 'employeeId'; value: string }) => StandInUser | undefined) | undefined;

  userByIdOrUpn(idOrUpn: string): StandInUser | undefined {
    const k = key(idOrUpn);
    const found = this.users.get(k) ?? this.usersByUpn.get(k);
    if (found !== undefined || this.provisionUser === undefined) return found;
    return this.provisioned({ property: idOrUpn.includes('@') ? 'userPrincipalName' : 'id', value: idOrUpn });
  }

  private provisioned(lookup: { property: 'id' | 'userPrincipalName' | 'mail' | 'employeeId'; value: string }): StandInUser | undefined {
    const user = this.provisionUser?.(lookup);
    if (user !== undefined) this.putUser(user);
    return user;
  }

  allUsers(): StandInUser[] {
    return [...this.users.values()];
  }

  /** Case-insensitive equality on a filterable user property. */
  usersWhere(property: 'id' | 'userPrincipalName' | 'mail' | 'employeeId' | 'displayName', value: string): StandInUser[] {
    const found = this.usersWhereStored(property, value);
    if (found.length > 0 || property === 'displayName' || this.provisionUser === undefined) return found;
    const user = this.provisioned({ property, value });
    return user === undefined ? [] : [user];
  }

  private usersWhereStored(property: 'id' | 'userPrincipalName' | 'mail' | 'employeeId' | 'displayName', value: string): StandInUser[] {
    const k = key(value);
    switch (property) {
      case 'id': {
        const u = this.users.get(k);
        return u ? [u] : [];
      }
      case 'userPrincipalName': {
        const u = this.usersByUpn.get(k);
        return u ? [u] : [];
      }
      case 'mail':
        return [...(this.usersByMail.get(k) ?? [])];
      case 'employeeId':
        return [...(this.usersByEmployeeId.get(k) ?? [])];
      case 'displayName':
        return this.allUsers().filter((u) => u.displayName !== undefined && key(u.displayName) === k);
    }
  }
}
