package shardlog

// The names and identifiers callers give: streams, consumers, shard IDs.

var streamNamePattern = "satisfy regular expression pattern: [a-zA-Z0-9_.-]+"

// checkName validates a name for member: a stream, consumer or shard ID
// (Kinesis gives all three the same constraint).
func checkName(member, name string) error {
	switch {
	case name == "":
		return validation(member, "", "have length greater than or equal to 1")
	case len(name) > 128:
		return validation(member, name, "have length less than or equal to 128")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return validation(member, name, streamNamePattern)
		}
	}
	return nil
}

// allDigits reports whether s is one or more decimal digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
