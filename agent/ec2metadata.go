package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// EC2Metadata is what ADDEC2METADATA adds to records: the instance's
// fields, as the instance metadata service would answer them. The agent
// does not ask that service; agent.json gives them, under "ec2.metadata",
// so that the same records come out on a laptop, in a test or on EC2.
type EC2Metadata struct {
	PrivateIP        string            `json:"privateIp"`
	AvailabilityZone string            `json:"availabilityZone"`
	InstanceID       string            `json:"instanceId"`
	InstanceType     string            `json:"instanceType"`
	AccountID        string            `json:"accountId"`
	AMIID            string            `json:"amiId"`
	Region           string            `json:"region"`
	Tags             map[string]string `json:"tags"`
}

// defaultMetadataTTL is how often the Kinesis Agent refreshes the
// instance's metadata, and so its metadataTimestamp.
const defaultMetadataTTL = 3600

// addEC2Metadata is ADDEC2METADATA's processor: each record, a JSON object
// (what LOGTOJSON or CSVTOJSON make), gets the fields o names after its
// own, in the Kinesis Agent's order (privateIp, availabilityZone,
// instanceId, instanceType, accountId, amiId, region, metadataTimestamp,
// then tags, by tag key); a field it has already is given the instance's
// value in its place. A record that is not a JSON object passes unchanged,
// as the Kinesis Agent cannot convert it either.
func (o *ProcessingOption) addEC2Metadata(m *EC2Metadata, pretty bool) (processor, error) {
	if m == nil {
		return nil, fmt.Errorf(`ADDEC2METADATA needs "ec2.metadata" in agent.json: this agent does not ask the instance metadata service`)
	}
	ttl := o.MetadataTTL
	if ttl == 0 {
		ttl = defaultMetadataTTL
	}
	if ttl < 0 {
		return nil, fmt.Errorf("metadataTTL %d is negative", ttl)
	}
	type field struct{ name, value string }
	var fixed []field
	for _, f := range []struct{ name, value string }{
		{o.PrivateIP, m.PrivateIP}, {o.AvailabilityZone, m.AvailabilityZone}, {o.InstanceID, m.InstanceID},
		{o.InstanceType, m.InstanceType}, {o.AccountID, m.AccountID}, {o.AMIID, m.AMIID}, {o.Region, m.Region},
	} {
		if f.name != "" {
			fixed = append(fixed, field(f))
		}
	}
	tags := map[string]string{}
	for k, v := range m.Tags {
		tags[strings.ToLower(k)] = v // the Kinesis Agent matches tag keys in lower case
	}
	var tagFields []field
	for _, tag := range slices.Sorted(maps.Keys(o.Tags)) {
		if v, ok := tags[tag]; ok && o.Tags[tag] != "" {
			tagFields = append(tagFields, field{o.Tags[tag], v})
		}
	}
	if len(fixed)+len(tagFields) == 0 && o.MetadataTimestamp == "" {
		return nil, fmt.Errorf("ADDEC2METADATA names no field to add (privateIp, availabilityZone, instanceId, instanceType, accountId, amiId, region, metadataTimestamp, tags)")
	}
	var refreshed time.Time
	return func(rec []byte, now time.Time) []byte {
		obj, ok := objectFields(trimNewline(rec))
		if !ok {
			return rec
		}
		if refreshed.IsZero() || now.Sub(refreshed) > time.Duration(ttl)*time.Second {
			refreshed = now
		}
		add := fixed[:len(fixed):len(fixed)]
		if o.MetadataTimestamp != "" {
			add = append(add, field{o.MetadataTimestamp, refreshed.UTC().Format("2006-01-02T15:04:05-0700")})
		}
		for _, f := range append(add, tagFields...) {
			v, _ := json.Marshal(f.value)
			if i := indexField(obj, f.name); i >= 0 {
				obj[i].value = v
			} else {
				obj = append(obj, objectField{f.name, v})
			}
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, f := range obj {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f.name)
			b.Write(k)
			b.WriteByte(':')
			b.Write(f.value)
		}
		b.WriteByte('}')
		if pretty {
			var p bytes.Buffer
			_ = json.Indent(&p, b.Bytes(), "", "  ")
			b = p
		}
		b.WriteByte('\n')
		return b.Bytes()
	}, nil
}

// objectField is a member of a JSON object, its value as written.
type objectField struct {
	name  string
	value json.RawMessage
}

// objectFields splits a JSON object into its members, in order; ok is
// false if b is not one object.
func objectFields(b []byte) (fields []objectField, ok bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		fields = append(fields, objectField{t.(string), v})
	}
	if t, err := d.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := d.Token(); err == nil {
		return nil, false // something after the object
	}
	return fields, true
}

func indexField(fields []objectField, name string) int {
	for i, f := range fields {
		if f.name == name {
			return i
		}
	}
	return -1
}
