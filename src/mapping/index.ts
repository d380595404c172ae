export * from './catalogCourse.js';
export * from './enrollment.js';
export * from './fingerprint.js';
export * from './graphTypes.js';
export * from './learnerRef.js';
export * from './toActivity.js';
export * from './toCatalogContent.js';
export * from './toContent.js';
