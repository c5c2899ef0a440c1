"""boto3's kinesis and firehose clients against shardlogd (see boto3-smoke.sh)."""
import os
import sys
import time

import boto3
import botocore.exceptions

endpoint, buckets = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
kinesis = boto3.client("kinesis", **kw)
firehose = boto3.client("firehose", **kw)


def fails(code, f, **args):
    try:
        f(**args)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{f.__name__}: {got} ({e}), want {code}"
        return e.response["Error"]["Message"]
    raise AssertionError(f"{f.__name__} succeeded, want {code}")


def delivered(folder, want):
    for _ in range(100):
        found = []
        for root, _, files in os.walk(folder):
            for name in files:
                if not name.startswith("."):
                    with open(os.path.join(root, name), "rb") as f:
                        found += f.read().split()
        if sorted(found) == sorted(want):
            return
        time.sleep(0.1)
    raise AssertionError(f"{folder} holds {found}, want {want}")


s3 = {"BucketARN": "arn:aws:s3:::lake", "RoleARN": "arn:aws:iam::000000000000:role/r",
      "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}}

# Direct put.
arn = firehose.create_delivery_stream(DeliveryStreamName="direct", ExtendedS3DestinationConfiguration=dict(s3, Prefix="direct/"))["DeliveryStreamARN"]
assert arn == "arn:aws:firehose:us-east-1:000000000000:deliverystream/direct", arn
out = firehose.put_record_batch(DeliveryStreamName="direct", Records=[{"Data": b"a\n"}, {"Data": b"b\n"}])
assert out["FailedPutCount"] == 0 and len(out["RequestResponses"]) == 2, out
firehose.put_record(DeliveryStreamName="direct", Record={"Data": b"c\n"})
delivered(os.path.join(buckets, "lake", "direct"), [b"a", b"b", b"c"])
desc = firehose.describe_delivery_stream(DeliveryStreamName="direct")["DeliveryStreamDescription"]
assert desc["DeliveryStreamStatus"] == "ACTIVE" and desc["VersionId"] == "1", desc
assert desc["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"] == "direct/", desc

# A stream as the source.
kinesis.create_stream(StreamName="clicks", ShardCount=2)
stream_arn = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
firehose.create_delivery_stream(DeliveryStreamName="from-clicks", DeliveryStreamType="KinesisStreamAsSource",
                                KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": "arn:aws:iam::000000000000:role/r"},
                                ExtendedS3DestinationConfiguration=dict(s3, Prefix="clicks/"))
kinesis.put_records(StreamName="clicks", Records=[{"Data": b"x\n", "PartitionKey": "1"}, {"Data": b"y\n", "PartitionKey": "2"}])
delivered(os.path.join(buckets, "lake", "clicks"), [b"x", b"y"])
msg = fails("InvalidArgumentException", firehose.put_record, DeliveryStreamName="from-clicks", Record={"Data": b"z"})
assert msg == "This operation is not permitted on KinesisStreamAsSource delivery stream type.", msg

names = firehose.list_delivery_streams()["DeliveryStreamNames"]
assert names == ["direct", "from-clicks"], names
only = firehose.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"]
assert only == ["from-clicks"], only

# Bad input in AWS's words.
fails("ResourceInUseException", firehose.create_delivery_stream, DeliveryStreamName="direct", ExtendedS3DestinationConfiguration=s3)
fails("ResourceNotFoundException", firehose.describe_delivery_stream, DeliveryStreamName="none")
msg = fails("ValidationException", firehose.describe_delivery_stream, DeliveryStreamName="bad name")  # boto3 checks no patterns
assert msg.endswith("at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"), msg
fails("ConcurrentModificationException", firehose.update_destination, DeliveryStreamName="direct", CurrentDeliveryStreamVersionId="9",
      DestinationId="destinationId-000000000001", ExtendedS3DestinationUpdate={"Prefix": "v2/"})

for name in names:
    firehose.delete_delivery_stream(DeliveryStreamName=name)
assert firehose.list_delivery_streams()["DeliveryStreamNames"] == []
kinesis.delete_stream(StreamName="clicks")
print("boto3 smoke test passed")
