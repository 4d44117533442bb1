// The contract shared by main, preload and renderer: no electron, no Node API.
export * from './api.js';
export { type ApiTransport, createApiClient } from './api-client.js';
export * from './csp.js';
export * from './errors.js';
export * from './format.js';
export * from './progress.js';
export * from './status.js';
