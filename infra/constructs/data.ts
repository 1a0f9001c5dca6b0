import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface DataProps {
  /** Production keeps the table (and refuses to delete it) when the stack goes. */
  readonly retain: boolean;
  /** Partitions each single-valued listing key is spread over; the functions get it as TABLE_INDEX_SHARDS. */
  readonly indexShards: number;
}

/**
 * The single table behind the conversation store. The design needs neither streams nor
 * transactions, so the same code runs against dynalite locally.
 */
export class Data extends Construct {
  readonly table: dynamodb.Table;
  /** The indexes the functions query; grants name them one by one. */
  readonly indexNames = ['gsi1', 'gsi2', 'gsi3', 'gsi4', 'gsi5'] as const;
  readonly indexShards: number;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    this.indexShards = props.indexShards;

    const key = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: key('pk'),
      sortKey: key('sk'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // Open conversations newest-first, and a conversation's messages.
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: key('gsi1pk'),
      sortKey: key('gsi1sk'),
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // The sweeper's due work: pending acks and undelivered outboxes, by due time.
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi2',
      partitionKey: key('gsi2pk'),
      sortKey: key('gsi2sk'),
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Customers waiting for us, soonest promise first (overdue = replyBy before now).
    // Conversations by status and channel, and by assignee, newest activity first.
    // Each answers one listing of the agents' API as a Query (docs/store.md).
    for (const indexName of ['gsi3', 'gsi4', 'gsi5'] as const) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: key(`${indexName}pk`),
        sortKey: key(`${indexName}sk`),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
