import { createHash } from 'node:crypto';

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
