export { azuriteConnectionString, startAzurite } from '../../src/sandbox/azurite.js';
export type { AzuriteInstance, StartAzuriteOptions } from '../../src/sandbox/azurite.js';
