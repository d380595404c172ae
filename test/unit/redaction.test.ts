import { describe, expect, it } from 'vitest';
import { createLogger, type LogFields } from '../../src/sync/logger.js';
import { Redactor, secretValuesOf } from '../../src/sync/redaction.js';

const settings = {
  LMS_CLIENT_ID: 'client one',
  LMS_CLIENT_SECRET: 's3cr3t/with+chars=&more',
  WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_b2xkLXNlY3JldC1rZXktdmFsdWU=',
  AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=QUNDT1VOVEtFWUFDQ09VTlRLRVk=;EndpointSuffix=core.windows.net',
};

describe('Redactor', () => {
  const redactor = new Redactor(secretValuesOf(settings));
  const basic = Buffer.from(`${encodeURIComponent('client one')}:${encodeURIComponent(settings.LMS_CLIENT_SECRET)}`).toString('base64');

  it.each([
    ['the client secret as set', `secret ${settings.LMS_CLIENT_SECRET} refused`, settings.LMS_CLIENT_SECRET],
    ['the client secret URL-encoded', `body client_id=x&cs=${encodeURIComponent(settings.LMS_CLIENT_SECRET)}`, encodeURIComponent(settings.LMS_CLIENT_SECRET)],
    ['the client secret form-encoded', new URLSearchParams({ s: settings.LMS_CLIENT_SECRET }).toString(), new URLSearchParams({ s: settings.LMS_CLIENT_SECRET }).toString().slice(2)],
    ['our Basic credentials, bare', `creds ${basic}`, basic],
    ['any Basic credentials', `Authorization: Basic ${Buffer.from('someone:else-entirely').toString('base64')}`, Buffer.from('someone:else-entirely').toString('base64')],
    ['a bearer token', 'Authorization: Bearer eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.sig-nature_x', 'eyJ0eXAiOiJKV1QifQ'],
    ['the second webhook secret of a rotation, bare', 'key b2xkLXNlY3JldC1rZXktdmFsdWU=', 'b2xkLXNlY3JldC1rZXktdmFsdWU'],
    ['any whsec_', 'whsec_c29tZW9uZSBlbHNlJ3Mgc2VjcmV0', 'c29tZW9uZSBlbHNlJ3Mgc2VjcmV0'],
    ['an AccountKey', 'AccountName=x;AccountKey=b3RoZXJrZXlvdGhlcmtleQ==;EndpointSuffix=core.windows.net', 'b3RoZXJrZXlvdGhlcmtleQ'],
    ['a SharedAccessSignature', 'TableEndpoint=https://x/;SharedAccessSignature=sv=2022-11-02&sig=abcDEF%2Bghi%3D', 'abcDEF'],
    ['a SAS sig in a URL', 'https://acct.table.core.windows.net/t?sv=2022&sig=abcDEF%2Bghi%3D&se=2026', 'abcDEF'],
    ['password= in a query', 'https://lms.example/login?user=a&password=hunter2hunter2&x=1', 'hunter2hunter2'],
    ['password%3D URL-encoded', 'next=%2Flogin%3Fuser%3Da%26password%3Dhunter2hunter2%26x%3D1', 'hunter2hunter2'],
    ['a JSON client_secret', '{"client_id":"x","client_secret":"zzzSecretValue"}', 'zzzSecretValue'],
    ['credentials in a URL', 'GET https://svc:pa55word@lms.example/api failed', 'pa55word'],
    ['a Functions key', 'POST https://app.azurewebsites.net/api/resync?code=AbCdEf123456== failed', 'AbCdEf123456'],
  ])('hides %s', (_name, text, secret) => {
    const clean = redactor.text(text);
    expect(clean).not.toContain(secret);
    expect(clean).toContain('(hidden)');
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['Basic information about the course', 'code=Forbidden status=403', 'GET /statements answered 400', 'learner ada@contoso.example has no Entra user']) {
      expect(redactor.text(text)).toBe(text);
    }
  });

  it('hides field values too, through the logger every entry point makes', () => {
    const lines: [string, string, LogFields | undefined][] = [];
    const logger = createLogger({ settings, write: (level, m, f) => lines.push([level, m, f]) });
    logger.warn(`refused ${settings.LMS_CLIENT_SECRET}`, { reason: `Bearer abcdefghijklmnop`, count: 3 });
    expect(JSON.stringify(lines)).not.toContain(settings.LMS_CLIENT_SECRET);
    expect(JSON.stringify(lines)).not.toContain('abcdefghijklmnop');
    expect(lines[0]?.[2]?.['count']).toBe(3);
  });
});
