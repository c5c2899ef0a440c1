package kinesisapi

import (
	"strconv"
	"strings"

	"github.com/shardlog/shardlog"
)

// violations collects a request's constraint violations in the order AWS
// reports them and words them as AWS does: "1 validation error detected:
// Value null at 'streamARN' failed to satisfy constraint: Member must not
// be null", or "2 validation errors detected: ...; ...".
type violations []string

// required records a missing required member (named in camelCase).
func (v *violations) required(member string, missing bool) {
	if missing {
		*v = append(*v, "Value null at '"+member+"' failed to satisfy constraint: Member must not be null")
	}
}

// tooLong records a list or map member with more than max items.
func (v *violations) tooLong(member string, max int) {
	*v = append(*v, "Value at '"+member+"' failed to satisfy constraint: Member must have length less than or equal to "+strconv.Itoa(max))
}

// err returns the ValidationException for what was recorded, or nil.
func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	head := "1 validation error detected: "
	if len(v) > 1 {
		head = strconv.Itoa(len(v)) + " validation errors detected: "
	}
	return &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: head + strings.Join(v, "; ")}
}
