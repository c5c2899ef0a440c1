package cloudwatchapi

import (
	"net/url"
	"strconv"
)

// The query protocol flattens an input into a form: members by name,
// nested members joined with dots, and lists as Name.member.1,
// Name.member.2, … (1-based).

// maxMembers bounds how many members of a list a form is read for.
const maxMembers = 1000

// members calls each for the prefixes of a list's members, in order, until
// one lacks probe (a member every element has, "" for a list of strings).
func members(f url.Values, list, probe string, each func(prefix string) error) error {
	for i := 1; i <= maxMembers; i++ {
		prefix := list + ".member." + strconv.Itoa(i)
		if !f.Has(prefix + probe) {
			return nil
		}
		if err := each(prefix); err != nil {
			return err
		}
	}
	return nil
}

// formString is a member that is present only if the form has it.
func formString(f url.Values, name string) *string {
	if !f.Has(name) {
		return nil
	}
	v := f.Get(name)
	return &v
}

// formInt reads an integer member, if present.
func formInt(f url.Values, name string) (*int64, error) {
	if !f.Has(name) {
		return nil, nil
	}
	n, err := strconv.ParseInt(f.Get(name), 10, 64)
	if err != nil {
		return nil, invalidValue("The parameter " + name + " must be an integer.")
	}
	return &n, nil
}

// formBool reads a boolean member, if present.
func formBool(f url.Values, name string) (*bool, error) {
	if !f.Has(name) {
		return nil, nil
	}
	b, err := strconv.ParseBool(f.Get(name))
	if err != nil {
		return nil, invalidValue("The parameter " + name + " must be true or false.")
	}
	return &b, nil
}

// formStamp reads a timestamp member, if present.
func formStamp(f url.Values, name string) (*stamp, error) {
	if !f.Has(name) {
		return nil, nil
	}
	var s stamp
	if err := s.parse(f.Get(name)); err != nil {
		return nil, invalidValue("The parameter " + name + " must be a timestamp in ISO 8601.")
	}
	return &s, nil
}

// formDimensions reads a list of dimensions.
func formDimensions(f url.Values, list string) []dimension {
	var out []dimension
	_ = members(f, list, ".Name", func(p string) error {
		out = append(out, dimension{Name: f.Get(p + ".Name"), Value: formString(f, p+".Value")})
		return nil
	})
	return out
}

// formStrings reads a list of strings.
func formStrings(f url.Values, list string) []string {
	var out []string
	_ = members(f, list, "", func(p string) error {
		out = append(out, f.Get(p))
		return nil
	})
	return out
}
