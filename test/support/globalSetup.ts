/**
 * One in-memory Azurite for the whole test run, on free loopback ports; test files reach it
 * through `inject('azuriteConnectionString')`. Set AZURITE_CONNECTION_STRING to use one that
 * is already running instead (then nothing is started).
 */
import type { TestProject } from 'vitest/node';
import { startAzurite } from './azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const existing = process.env['AZURITE_CONNECTION_STRING'];
  if (existing !== undefined && existing !== '') {
    project.provide('azuriteConnectionString', existing);
    return undefined;
  }
  const azurite = await startAzurite({ inMemory: true, silent: true });
  project.provide('azuriteConnectionString', azurite.connectionString);
  return () => azurite.stop();
}
