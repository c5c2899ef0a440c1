package kinesisapi

// Decoding JSON into Go values can cost far more memory than the JSON
// itself: 16 MiB of "{},{},..." becomes millions of structs. checkShape
// walks a body once, without allocating, and refuses one whose lists or
// maps are longer, or whose nesting is deeper, than any Kinesis request
// needs, before anything is decoded. With it a request costs at most a small
// multiple of its body.

const (
	maxItems = 1000 // items in any list or map not named in listLimits
	maxDepth = 32   // Kinesis requests nest four levels at most
)

// listLimits are the API model's maximum lengths of the lists and maps a
// request may carry, by member name.
var listLimits = map[string]int{
	"Records":           500, // PutRecords
	"TagKeys":           50,  // RemoveTagsFromStream
	"ShardLevelMetrics": 7,   // Enable/DisableEnhancedMonitoring
	"Tags":              200, // CreateStream, AddTagsToStream
}

// checkShape returns errTooLong for a top-level member longer than the
// model allows (decodeValid then answers with the model's violations), a
// SerializationException for other lists, maps or nesting beyond the
// bounds above, and nil otherwise (including for bodies that are not JSON:
// the decoder words that error).
func checkShape(body []byte) error {
	type frame struct {
		items  int
		limit  int
		member string // the top-level member this container is, if it is one
		expect bool   // the next value or key starts a new item
	}
	var stack [maxDepth + 1]frame
	depth := 0               // containers open; stack[depth-1] is the innermost
	var keyStart, keyEnd int // the last string at depth 1: a member name if a container follows
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			continue
		}
		top := &stack[max(depth-1, 0)]
		if depth > 0 && top.expect && c != ']' && c != '}' {
			top.expect = false
			if top.items++; top.items > top.limit {
				if top.member != "" {
					return errTooLong
				}
				return &serializationError{"The request has a list or map with too many items."}
			}
		}
		switch c {
		case '"':
			start := i + 1
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
			if depth == 1 {
				keyStart, keyEnd = start, min(i, len(body))
			}
		case '[', '{':
			if depth == maxDepth {
				return &serializationError{"The request nests too deeply."}
			}
			f := frame{limit: maxItems, expect: true}
			if depth == 1 {
				if n, ok := listLimits[string(body[keyStart:keyEnd])]; ok {
					f.limit, f.member = n, string(body[keyStart:keyEnd])
				}
			}
			stack[depth] = f
			depth++
		case ']', '}':
			if depth == 0 {
				return nil
			}
			depth--
		case ',':
			if depth > 0 {
				top.expect = true
			}
		}
	}
	return nil
}
