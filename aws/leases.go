package aws

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shardlog/shardlog"
)

// LeaseStore keeps consumer-group leases in DynamoDB, in the lease table
// schema of the Java Kinesis Client Library: one item per shard, keyed by
// leaseKey (the shard ID), with leaseOwner, leaseCounter, checkpoint,
// checkpointSubSequenceNumber, ownerSwitchesSinceCheckpoint,
// parentShardId and, while a lease is being handed over, checkpointOwner. A Go group and a Java KCL application can read each
// other's tables. Writes are conditional as the KCL's are: a lease is
// created only if absent, and changed only if its owner and counter are
// still the ones read.
//
// Each group's leases go to the table named after its application (the
// last part of the group's table name), as the KCL names its tables; a
// missing table is created (on-demand billing) on the first write.
type LeaseStore struct {
	client *dynamodb.Client
}

var _ shardlog.LeaseStore = (*LeaseStore)(nil)

// NewLeaseStore returns a LeaseStore over client.
func NewLeaseStore(client *dynamodb.Client) *LeaseStore { return &LeaseStore{client: client} }

// The KCL's attribute names and checkpoint sentinels.
const (
	attrKey            = "leaseKey"
	attrOwner          = "leaseOwner"
	attrCounter        = "leaseCounter"
	attrCheckpoint     = "checkpoint"
	attrSubSequence    = "checkpointSubSequenceNumber"
	attrOwnerSwitches  = "ownerSwitchesSinceCheckpoint"
	attrParents        = "parentShardId"
	attrSuccessor      = "checkpointOwner" // a graceful hand-off's next owner
	checkpointShardEnd = "SHARD_END"
)

var notTableName = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// tableName is the DynamoDB table of a group's table: its application.
func tableName(table string) string {
	if i := strings.LastIndexByte(table, '/'); i >= 0 {
		table = table[i+1:]
	}
	if len(table) < 3 { // DynamoDB's shortest table name
		table += "___"[:3-len(table)]
	}
	return notTableName.ReplaceAllString(table, "_")
}

// Leases returns the leases of table; none if the table does not exist.
func (l *LeaseStore) Leases(ctx context.Context, table string) ([]shardlog.Lease, error) {
	var out []shardlog.Lease
	p := dynamodb.NewScanPaginator(l.client, &dynamodb.ScanInput{TableName: sdk.String(tableName(table)), ConsistentRead: sdk.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, guardDynamoDB)
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, item := range page.Items {
			lease, err := fromItem(item)
			if err != nil {
				return nil, err
			}
			out = append(out, lease)
		}
	}
	return out, nil
}

// Swap writes lease if the stored one is still old (by owner and
// counter), or, with old nil, if there is none; otherwise it returns
// shardlog.ErrLeaseConflict. A change updates the item in place, as the KCL
// does, so attributes a Java KCL application keeps there (hash ranges,
// child shards) stay; taking a lease from another owner counts in
// ownerSwitchesSinceCheckpoint, and a new checkpoint resets it.
func (l *LeaseStore) Swap(ctx context.Context, table string, old *shardlog.Lease, lease shardlog.Lease) error {
	name := sdk.String(tableName(table))
	var err error
	if old == nil {
		in := &dynamodb.PutItemInput{TableName: name, Item: toItem(lease),
			ConditionExpression: sdk.String("attribute_not_exists(" + attrKey + ")")}
		_, err = l.client.PutItem(ctx, in, guardDynamoDB)
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) {
			if err := l.createTable(ctx, *name); err != nil {
				return err
			}
			_, err = l.client.PutItem(ctx, in, guardDynamoDB)
		}
	} else {
		_, err = l.client.UpdateItem(ctx, update(name, old, lease), guardDynamoDB)
	}
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return shardlog.ErrLeaseConflict
	}
	return err
}

// update is the conditional UpdateItem that turns old into lease.
func update(table *string, old *shardlog.Lease, lease shardlog.Lease) *dynamodb.UpdateItemInput {
	item := toItem(lease)
	values := map[string]types.AttributeValue{
		":counter": number(old.Counter), ":next": item[attrCounter],
		":checkpoint": item[attrCheckpoint], ":sub": item[attrSubSequence],
	}
	set := []string{attrCounter + " = :next", attrCheckpoint + " = :checkpoint", attrSubSequence + " = :sub"}
	var remove, add []string
	if lease.Owner != "" {
		set = append(set, attrOwner+" = :owner")
		values[":owner"] = item[attrOwner]
	} else {
		remove = append(remove, attrOwner)
	}
	if lease.Successor != "" {
		set = append(set, attrSuccessor+" = :successor")
		values[":successor"] = item[attrSuccessor]
	} else {
		remove = append(remove, attrSuccessor)
	}
	switch {
	case lease.Checkpoint.Compare(old.Checkpoint) != 0 || lease.CheckpointSubSequence != old.CheckpointSubSequence || lease.ShardEnd != old.ShardEnd:
		set = append(set, attrOwnerSwitches+" = :zero")
		values[":zero"] = number(0)
	case lease.Owner != "" && lease.Owner != old.Owner:
		add = append(add, attrOwnerSwitches+" :one")
		values[":one"] = number(1)
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	if len(add) > 0 {
		expr += " ADD " + strings.Join(add, ", ")
	}
	cond := attrCounter + " = :counter AND attribute_not_exists(" + attrOwner + ")"
	if old.Owner != "" {
		cond = attrCounter + " = :counter AND " + attrOwner + " = :oldOwner"
		values[":oldOwner"] = &types.AttributeValueMemberS{Value: old.Owner}
	}
	return &dynamodb.UpdateItemInput{
		TableName:                 table,
		Key:                       map[string]types.AttributeValue{attrKey: item[attrKey]},
		UpdateExpression:          sdk.String(expr),
		ConditionExpression:       sdk.String(cond),
		ExpressionAttributeValues: values,
	}
}

// createTable makes a lease table as the KCL does and waits until it is
// ACTIVE; another worker creating it first is fine.
func (l *LeaseStore) createTable(ctx context.Context, name string) error {
	_, err := l.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            sdk.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: sdk.String(attrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: sdk.String(attrKey), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}, guardDynamoDB)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	return dynamodb.NewTableExistsWaiter(l.client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
		o.ClientOptions = append(o.ClientOptions, guardDynamoDB)
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: sdk.String(name)}, 2*time.Minute)
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// toItem lays a lease out in the KCL's schema. A free lease has no owner;
// a shard read to its end has the checkpoint SHARD_END.
func toItem(l shardlog.Lease) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrKey:           &types.AttributeValueMemberS{Value: l.Key},
		attrCounter:       number(l.Counter),
		attrSubSequence:   number(l.CheckpointSubSequence),
		attrOwnerSwitches: number(0),
	}
	if l.Owner != "" {
		item[attrOwner] = &types.AttributeValueMemberS{Value: l.Owner}
	}
	if l.Successor != "" {
		item[attrSuccessor] = &types.AttributeValueMemberS{Value: l.Successor}
	}
	switch {
	case l.ShardEnd:
		item[attrCheckpoint] = &types.AttributeValueMemberS{Value: checkpointShardEnd}
	case !l.Checkpoint.IsZero():
		item[attrCheckpoint] = &types.AttributeValueMemberS{Value: l.Checkpoint.String()}
	case l.Start != "":
		item[attrCheckpoint] = &types.AttributeValueMemberS{Value: string(l.Start)}
	default:
		item[attrCheckpoint] = &types.AttributeValueMemberS{Value: string(shardlog.TrimHorizon)}
	}
	if len(l.Parents) > 0 { // DynamoDB has no empty sets
		item[attrParents] = &types.AttributeValueMemberSS{Value: l.Parents}
	}
	return item
}

// fromItem reads a lease in the KCL's schema. The KCL's other checkpoint
// sentinels (TRIM_HORIZON, LATEST, AT_TIMESTAMP: not yet read) read as no
// checkpoint and that Start.
func fromItem(item map[string]types.AttributeValue) (shardlog.Lease, error) {
	var l shardlog.Lease
	str := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	num := func(name string) (int64, error) {
		v, ok := item[name].(*types.AttributeValueMemberN)
		if !ok {
			return 0, nil
		}
		return strconv.ParseInt(v.Value, 10, 64)
	}
	l.Key, l.Owner, l.Successor = str(attrKey), str(attrOwner), str(attrSuccessor)
	var err error
	if l.Counter, err = num(attrCounter); err != nil {
		return l, err
	}
	if l.CheckpointSubSequence, err = num(attrSubSequence); err != nil {
		return l, err
	}
	switch cp := str(attrCheckpoint); {
	case cp == checkpointShardEnd:
		l.ShardEnd = true
	case cp == string(shardlog.TrimHorizon) || cp == string(shardlog.Latest) || cp == string(shardlog.AtTimestamp):
		l.Start = shardlog.IteratorType(cp)
	case cp != "":
		if l.Checkpoint, err = shardlog.ParseSequenceNumber(cp); err != nil {
			return l, err
		}
	}
	if v, ok := item[attrParents].(*types.AttributeValueMemberSS); ok {
		l.Parents = v.Value
	}
	return l, nil
}
