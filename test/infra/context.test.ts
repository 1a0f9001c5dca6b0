import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readContext } from '../../infra/context.ts';

const read = (context: Record<string, unknown>) => readContext(new App({ context }).node);
const certificateArn = 'arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-1234';

describe('readContext', () => {
  it('should default to dev, no public URL, no mail domain and the default mail expiry', () => {
    expect(read({})).toEqual({
      stage: 'dev',
      mail: { rawMailDays: 90, attachmentDays: 365 },
      indexShards: 8,
    });
  });

  it('should read every setting a production deploy passes with -c', () => {
    // Act
    const context = read({
      stage: 'prod',
      domainName: 'hooks.example.com',
      certificateArn,
      mailDomain: 'Support.Example.com',
      sesFromAddress: 'Anna Kowalska <anna@example.com>',
      alertEmail: 'ops@example.com',
      whatsappPhoneNumberId: '106540352242922',
      whatsappPhoneNumberIds: ' 207651463353033, 308762574464144 ',
      metaAppId: '1517776481860111',
      metaHumanAgent: 'off',
      twilio: 'off',
      rawMailExpirationDays: '30',
      attachmentExpirationDays: '400',
      indexShards: '16',
    });

    // Assess
    expect(context).toEqual({
      stage: 'prod',
      publicUrl: 'https://hooks.example.com',
      customDomain: { domainName: 'hooks.example.com', certificateArn },
      mail: {
        domain: 'support.example.com',
        fromAddress: 'Anna Kowalska <anna@example.com>',
        rawMailDays: 30,
        attachmentDays: 400,
      },
      alertEmail: 'ops@example.com',
      whatsappPhoneNumberId: '106540352242922',
      whatsappPhoneNumberIds: ['207651463353033', '308762574464144'],
      metaAppId: '1517776481860111',
      metaHumanAgent: false,
      twilio: false,
      indexShards: 16,
    });
  });

  it.each([
    [{ stage: 'staging' }, /Unknown stage "staging"/],
    [{ domainName: 'hooks.example.com' }, /domainName and certificateArn go together/],
    [{ domainName: 'hooks.example.com', certificateArn: 'not-an-arn' }, /certificateArn is not valid/],
    [
      { domainName: 'hooks.example.com', certificateArn, publicUrl: 'https://other.example.com' },
      /contradicts domainName/,
    ],
    [{ publicUrl: 'http://hooks.example.com' }, /publicUrl must be an https URL/],
    [{ mailDomain: 'not a domain' }, /mailDomain is not valid/],
    [{ sesFromAddress: 'Anna Kowalska' }, /sesFromAddress is not valid/],
    [{ sesIdentityArn: 'arn:aws:iam::123456789012:role/x' }, /sesIdentityArn is not valid/],
    [{ alertEmail: 'ops' }, /alertEmail is not valid/],
    [{ rawMailExpirationDays: '0' }, /rawMailExpirationDays must be a whole number/],
    [{ attachmentExpirationDays: 'a year' }, /attachmentExpirationDays must be a whole number/],
    [{ metaAppId: 'my-app' }, /metaAppId is not valid/],
    [{ whatsappPhoneNumberIds: '207651463353033,+48 22 765 43 21' }, /whatsappPhoneNumberIds is not valid/],
    [{ metaHumanAgent: 'yes' }, /metaHumanAgent is not valid/],
    [{ twilio: 'no' }, /twilio is not valid/],
    [{ indexShards: '0' }, /indexShards must be a whole number from 1 to 64/],
    [{ indexShards: '65' }, /indexShards must be a whole number from 1 to 64/],
  ])('should refuse %j', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });
});
