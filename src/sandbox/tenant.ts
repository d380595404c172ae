import { createHash } from 'node:crypto';
import { createFileAdapter } from '../lms/file.js';

export interface SandboxUser {
  id: string;
  userPrincipalName: string;
  mail?: string;
  employeeId?: string;
  displayName?: string;
}

export interface SandboxTenant {
  readonly token: string;
  readonly provider: { id: string; displayName: string; isCourseActivitySyncEnabled: boolean; longLogoWebUrlForDarkTheme: string; longLogoWebUrlForLightTheme: string; squareLogoWebUrlForDarkTheme: string; squareLogoWebUrlForLightTheme: string };
  readonly users: readonly SandboxUser[];
}

/** A stable GUID-shaped id from a name, so the sandbox tenant is the same on every start. */
export function stableGuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The people of an export, as Entra users of the sandbox tenant. People whose address
 * starts with "former." are left out on purpose: they show what an unknown learner does.
 */
export async function learnersOf(exportPath: string): Promise<SandboxUser[]> {
  const users = new Map<string, SandboxUser>();
  const add = (p: { upn?: string; email?: string; employeeId?: string } | undefined): void => {
    const upn = (p?.upn ?? p?.email)?.toLowerCase();
    if (upn === undefined || upn.startsWith('former.') || users.has(upn)) return;
    users.set(upn, {
      id: stableGuid(upn),
      userPrincipalName: upn,
      ...(p?.email !== undefined ? { mail: p.email.toLowerCase() } : {}),
      ...(p?.employeeId !== undefined ? { employeeId: p.employeeId } : {}),
    });
  };
  for await (const item of createFileAdapter({ path: exportPath }).listChanges()) {
    if (item.kind !== 'record' || item.record.deleted === true) continue;
    add(item.record.learner);
    add(item.record.assigner);
  }
  return [...users.values()];
}

export function sandboxTenant(users: readonly SandboxUser[]): SandboxTenant {
  const logo = 'https://contoso.example/logo.png';
  return {
    token: 'sandbox-token',
    provider: {
      id: stableGuid('viva-learning-sync sandbox provider'),
      displayName: 'Contoso LMS (sandbox)',
      isCourseActivitySyncEnabled: true,
      longLogoWebUrlForDarkTheme: logo,
      longLogoWebUrlForLightTheme: logo,
      squareLogoWebUrlForDarkTheme: logo,
      squareLogoWebUrlForLightTheme: logo,
    },
    users,
  };
}
