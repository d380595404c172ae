/**
 * The LMS stand-ins behind `npm start`, with generated data (./demoData.ts), so that
 * `LMS_ADAPTER=<any> npm start` works from a clone with nothing beside it (the third-party
 * captures in ../shared/reference/data are not part of the repository; tests replay them where
 * they exist).
 */
import { CanvasStandIn } from './canvasStandIn.js';
import { seedCanvasDemo, seedMoodleDemo, seedOneRosterDemo, xapiDemoStatements } from './demoData.js';
import { MoodleStandIn } from './moodleStandIn.js';
import { OneRosterStandIn } from './oneRosterStandIn.js';
import { XapiStandIn } from './xapiStandIn.js';

export type DemoAdapter = 'canvas' | 'moodle' | 'oneroster' | 'xapi';

/** A running stand-in: the settings that point the adapter at it, and how to stop it. */
export interface DemoLms {
  readonly settings: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startDemoLms(adapter: DemoAdapter): Promise<DemoLms> {
  switch (adapter) {
    case 'canvas':
      return canvasDemo();
    case 'moodle':
      return moodleDemo();
    case 'oneroster':
      return oneRosterDemo();
    case 'xapi':
      return xapiDemo();
  }
}

/**
 * Each stand-in listens on the same port from one `npm start` to the next when it can: the
 * course URLs the adapters build hold the LMS's address, and a new port would change every
 * course's content.
 */
const DEMO_PORTS: Readonly<Record<DemoAdapter, number>> = { canvas: 48_081, moodle: 48_082, oneroster: 48_083, xapi: 48_084 };

async function listen<T>(start: (port: number) => Promise<T>, port: number): Promise<T> {
  try {
    return await start(port);
  } catch {
    return start(0);
  }
}

async function canvasDemo(): Promise<DemoLms> {
  const canvas = new CanvasStandIn();
  await listen((port) => canvas.start(port), DEMO_PORTS.canvas);
  seedCanvasDemo(canvas);
  return { settings: { LMS_BASE_URL: canvas.baseUrl, LMS_TOKEN: canvas.token }, stop: () => canvas.stop() };
}

async function moodleDemo(): Promise<DemoLms> {
  const moodle = new MoodleStandIn();
  seedMoodleDemo(moodle);
  await listen((port) => moodle.start(port), DEMO_PORTS.moodle);
  return { settings: { LMS_BASE_URL: moodle.baseUrl, LMS_TOKEN: moodle.token }, stop: () => moodle.stop() };
}

async function oneRosterDemo(): Promise<DemoLms> {
  const server = new OneRosterStandIn({ clientId: 'demo-client', clientSecret: 'demo-secret-not-for-production' });
  const baseUrl = await listen((port) => server.start(port), DEMO_PORTS.oneroster);
  seedOneRosterDemo(server);
  return {
    settings: { LMS_BASE_URL: baseUrl, LMS_CLIENT_ID: 'demo-client', LMS_CLIENT_SECRET: 'demo-secret-not-for-production', LMS_TOKEN_URL: server.tokenUrl, LMS_ONEROSTER_COURSE_URL: 'https://lms.contoso.example/classes/{classSourcedId}' },
    stop: () => server.stop(),
  };
}

async function xapiDemo(): Promise<DemoLms> {
  const lrs = new XapiStandIn({ username: 'demo-key', password: 'demo-secret-not-for-production' });
  const endpoint = await listen((port) => lrs.start(port), DEMO_PORTS.xapi);
  lrs.store(xapiDemoStatements());
  return { settings: { LMS_BASE_URL: endpoint, LMS_USERNAME: 'demo-key', LMS_PASSWORD: 'demo-secret-not-for-production' }, stop: () => lrs.stop() };
}
