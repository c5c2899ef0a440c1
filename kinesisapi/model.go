package kinesisapi

//go:generate go run ../internal/tools/modelgen

import (
	"errors"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/apimodel"
)

// Kinesis's input and output shapes (model_gen.go) are apimodel's, which
// checks requests against them as AWS does.
type shape = apimodel.Shape

const (
	kindString    = apimodel.String
	kindBlob      = apimodel.Blob
	kindInteger   = apimodel.Integer
	kindNumber    = apimodel.Number
	kindBoolean   = apimodel.Boolean
	kindTimestamp = apimodel.Timestamp
	kindList      = apimodel.List
	kindMap       = apimodel.Map
	kindStructure = apimodel.Structure
)

func init() { apimodel.Compile(inputShapes) }

// javaPackage names Kinesis's structures in validation messages, as its
// Java service's classes.
const javaPackage = "com.amazonaws.kinesis.v20131202"

// validateBody returns the ValidationException for body's violations of
// root's constraints, a SerializationException for a value the decoder
// let through that AWS's would not, or nil (see apimodel.Validate).
func validateBody(body []byte, root *shape) error {
	return modelError(apimodel.Validate(body, root, javaPackage))
}

// modelError is an apimodel error as Kinesis answers it.
func modelError(err error) error {
	var ve *apimodel.ValidationError
	var se *apimodel.SerializationError
	switch {
	case errors.As(err, &ve):
		return &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: ve.Message}
	case errors.As(err, &se):
		return &serializationError{se.Message}
	}
	return err
}

// decodeValid decodes body into in and then checks it against sh, so that
// serialization errors come first, as on AWS. A list or map too long to
// decode safely is judged by validateBody alone.
func decodeValid(body []byte, in any, sh *shape) error {
	err := decode(body, in)
	if err == nil || errors.Is(err, errTooLong) {
		if verr := validateBody(body, sh); verr != nil {
			return verr
		}
	}
	if errors.Is(err, errTooLong) {
		return &serializationError{"The request has a list or map with too many items."}
	}
	return err
}

// errTooLong is a modeled list or map too long to decode.
var errTooLong = errors.New("a list or map longer than the model allows")
