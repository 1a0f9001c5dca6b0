import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from '#lib/channels/channel.ts';
import { parseMultipart } from '#lib/channels/mailgun/form.ts';
import { parseMailgunRoute } from '#lib/channels/mailgun/schema.ts';
import { fuzzRuns } from '#test/support/fuzz.ts';
import {
  fixtureFiles,
  mailgunFixture,
  mailgunMultipartRequest,
  mailgunRequest,
  signMailgun,
} from '#test/support/mailgun-factory.ts';

function issuesOf(act: () => unknown): string[] {
  try {
    act();
  } catch (error) {
    if (error instanceof MalformedPayloadError) return error.issues;
    throw error;
  }
  throw new Error('expected MalformedPayloadError');
}

describe('parseMailgunRoute', () => {
  it('should parse a urlencoded route POST with its message-headers pairs', () => {
    // Prepare
    const request = mailgunRequest(signMailgun(mailgunFixture('reply-polish')));

    // Act
    const payload = parseMailgunRoute(request);

    // Assess
    expect(payload.recipient).toBe('anna@mg.sklep.example');
    expect(payload.from).toBe('Zofia Wójcik <zofia.wojcik@poczta.example.pl>');
    expect(payload['stripped-text']).toMatch(/^Dziękuję, czekam/);
    expect(payload['message-headers']).toContainEqual({
      name: 'in-reply-to',
      value: '<20261110082000.a1b2c3d4e5f6@mg.sklep.example>',
    });
    expect(payload.files).toEqual([]);
    expect(payload['X-Mailgun-Incoming']).toBe('Yes');
  });

  it('should parse a multipart POST with its files byte for byte when the bytes are given', async () => {
    // Prepare
    const files = fixtureFiles();
    const request = await mailgunMultipartRequest(signMailgun(mailgunFixture('two-attachments')), files);

    // Act
    const payload = parseMailgunRoute(request);

    // Assess
    expect(payload.subject).toBe('Zdjęcie uszkodzenia i faktura');
    expect(
      payload.files.map(({ field, filename, contentType }) => ({ field, filename, contentType })),
    ).toEqual([
      { field: 'attachment-1', filename: 'faktura-2026-09.pdf', contentType: 'application/pdf' },
      { field: 'attachment-2', filename: 'zdjęcie.png', contentType: 'image/png' },
    ]);
    expect(payload.files[1]?.content).toEqual(files[1]?.content);
  });

  it('should still read the text fields of a multipart POST from the text body alone', async () => {
    // Prepare
    const request = await mailgunMultipartRequest(
      signMailgun(mailgunFixture('two-attachments')),
      fixtureFiles(),
      {
        withBytes: false,
      },
    );

    // Act
    const payload = parseMailgunRoute(request);

    // Assess
    expect(payload['body-plain']).toBe('W załączniku zdjęcie uszkodzenia i faktura.\r\n');
    expect(payload.files).toHaveLength(2);
    // The PNG is not UTF-8: without the bytes it cannot survive the text decoding.
    expect(payload.files[1]?.content).not.toEqual(fixtureFiles()[1]?.content);
  });

  it('should refuse an attachment-count that does not match the files', async () => {
    // Prepare
    const request = await mailgunMultipartRequest(
      signMailgun(mailgunFixture('two-attachments')),
      fixtureFiles().slice(0, 1),
    );

    // Act
    const issues = issuesOf(() => parseMailgunRoute(request));

    // Assess
    expect(issues).toEqual(['attachment-count: custom']);
  });

  it('should name the missing fields and a broken message-headers without their values', () => {
    // Prepare
    const form = signMailgun(mailgunFixture('reply-polish'));
    form.delete('recipient');
    form.set('message-headers', '[["From", "zofia@example.pl"');

    // Act
    const issues = issuesOf(() => parseMailgunRoute(mailgunRequest(form)));

    // Assess
    expect(issues).toEqual(['recipient: invalid_type', 'message-headers: custom']);
    expect(issues.join()).not.toMatch(/zofia/);
  });

  it('should never throw anything but MalformedPayloadError for random urlencoded or multipart bodies', () => {
    const body = fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    fc.assert(
      fc.property(
        body,
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=xyz',
          'multipart/form-data',
        ),
        (rawBody, contentType) => {
          // Prepare
          const request = {
            url: 'https://x',
            headers: new Headers({ 'content-type': contentType }),
            rawBody,
          };

          // Act
          let thrown: unknown;
          try {
            parseMailgunRoute(request);
          } catch (error) {
            thrown = error;
          }

          // Assess
          expect(thrown).toBeInstanceOf(MalformedPayloadError);
        },
      ),
      fuzzRuns(500),
    );
  });
});

describe('parseMultipart', () => {
  it('should read quoted and RFC 5987 file names and repeated fields', () => {
    // Prepare
    const body = [
      '--b',
      'Content-Disposition: form-data; name="a"',
      '',
      '1',
      '--b',
      'Content-Disposition: form-data; name="a"',
      '',
      '2',
      '--b',
      `Content-Disposition: form-data; name="f"; filename="x.bin"; filename*=utf-8''%C5%BC%C3%B3%C5%82w.txt`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'abc',
      '--b--',
      '',
    ].join('\r\n');

    // Act
    const form = parseMultipart(new TextEncoder().encode(body), 'multipart/form-data; boundary="b"');

    // Assess
    expect(form.fields.a).toEqual(['1', '2']);
    expect(form.files).toEqual([
      {
        field: 'f',
        filename: 'żółw.txt',
        contentType: 'text/plain',
        content: new TextEncoder().encode('abc'),
      },
    ]);
  });
});
