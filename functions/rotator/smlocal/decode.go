package smlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"
)

// decode reads an operation's JSON input. Malformed JSON and values of the
// wrong JSON type are SerializationException, as AWS JSON 1.1 services
// answer them; unknown members are ignored, as the services do (clients
// may be newer than the model).
func decode(body []byte, in any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if !utf8.Valid(body) {
		return newErr(codeSerialization, "The request body is not valid UTF-8.")
	}
	// encoding/json matches member names case-insensitively; the service
	// does not ("secretid" is not SecretId). Members whose name is not
	// exactly a known one are dropped first, as unknown members are.
	if exact, err := exactMembers(body, reflect.TypeOf(in)); err == nil {
		body = exact
	}
	if err := json.Unmarshal(body, in); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return newErr(codeSerialization, "Unexpected JSON %s for member %s: want %s.", te.Value, te.Field, jsonKind(te.Type.String()))
		case errors.As(err, &te):
			return newErr(codeSerialization, "The request body must be a JSON object, not a JSON %s.", te.Value)
		case errors.As(err, &se):
			return newErr(codeSerialization, "The request body is not valid JSON: %v.", se)
		default:
			// e.g. SecretBinary that is not valid base64.
			return newErr(codeSerialization, "The request body cannot be read: %v.", err)
		}
	}
	return nil
}

// exactMembers rewrites a JSON body keeping, in every object that maps to
// a struct of t, only the members whose name is exactly a field's (its
// json tag's name, else the field name). Values that do not have the
// expected shape are kept as they are, for json.Unmarshal to report.
func exactMembers(body []byte, t reflect.Type) ([]byte, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil || m == nil {
			return body, nil
		}
		out := make(map[string]json.RawMessage, len(m))
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			}
			v, ok := m[name]
			if !ok {
				continue
			}
			nv, err := exactMembers(v, f.Type)
			if err != nil {
				return nil, err
			}
			out[name] = nv
		}
		return json.Marshal(out)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return body, nil // []byte: a base64 string
		}
		var list []json.RawMessage
		if err := json.Unmarshal(body, &list); err != nil || list == nil {
			return body, nil
		}
		for i, v := range list {
			nv, err := exactMembers(v, t.Elem())
			if err != nil {
				return nil, err
			}
			list[i] = nv
		}
		return json.Marshal(list)
	}
	return body, nil
}

// jsonKind names a Go type by the JSON type a client should send.
func jsonKind(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "int64", "*int64":
		return "an integer"
	case "bool", "*bool":
		return "a boolean"
	case "[]uint8":
		return "a base64 string"
	}
	if len(goType) > 2 && goType[:2] == "[]" {
		return "a list"
	}
	return "an object"
}

// The constraint messages below follow the form AWS's request validation
// uses ("1 validation error detected: Value ... at 'member' failed to
// satisfy constraint: ...").

func errMissing(member string) *apiError {
	return newErr(codeValidation, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func errConstraint(member, constraint string) *apiError {
	return newErr(codeValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must %s", member, constraint)
}

// required checks a required string member and its length bounds.
func required(member string, v *string, lo, hi int) *apiError {
	if v == nil {
		return errMissing(member)
	}
	return length(member, v, lo, hi)
}

// length checks an optional string member's length bounds (in characters,
// as the API Reference's "Length Constraints" count them).
func length(member string, v *string, lo, hi int) *apiError {
	if v == nil {
		return nil
	}
	n := utf8.RuneCountInString(*v)
	if n < lo {
		return errConstraint(member, fmt.Sprintf("have length greater than or equal to %d", lo))
	}
	if n > hi {
		return errConstraint(member, fmt.Sprintf("have length less than or equal to %d", hi))
	}
	return nil
}

// Secret names: CreateSecret, Name: "The secret name can contain ASCII
// letters, numbers, and the following characters: /_+=.@-", 1 to 512
// characters.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func checkName(name *string) *apiError {
	if name == nil {
		return errMissing("name")
	}
	if err := length("name", name, 1, 512); err != nil {
		return err
	}
	if !nameRE.MatchString(*name) {
		return newErr(codeInvalidParameter, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

// maxValueBytes is the limit on SecretString and SecretBinary (CreateSecret,
// PutSecretValue: "Length Constraints: Maximum length of 65536").
const maxValueBytes = 65536

// checkValue validates a SecretString/SecretBinary pair and refuses a
// request that has both (CreateSecret, PutSecretValue: "include
// SecretBinary or SecretString, but not both").
func checkValue(str *string, bin []byte) *apiError {
	if str != nil && bin != nil {
		return newErr(codeInvalidParameter, "You can't specify both SecretString and SecretBinary in the same request.")
	}
	if str != nil && len(*str) > maxValueBytes {
		return errConstraint("secretString", fmt.Sprintf("have length less than or equal to %d", maxValueBytes))
	}
	if len(bin) > maxValueBytes {
		return errConstraint("secretBinary", fmt.Sprintf("have length less than or equal to %d", maxValueBytes))
	}
	return nil
}

// checkHasValue refuses a PutSecretValue without a value ("You must include
// SecretBinary or SecretString").
func checkHasValue(str *string, bin []byte) *apiError {
	if str == nil && bin == nil {
		return newErr(codeInvalidRequest, "You must provide either SecretString or SecretBinary.")
	}
	return nil
}

// checkNoReplicas refuses AddReplicaRegions: replication is not emulated.
func checkNoReplicas(regions []json.RawMessage) *apiError {
	if len(regions) > 0 {
		return newErr(codeInvalidRequest, "smlocal does not emulate replica regions (AddReplicaRegions).")
	}
	return nil
}

// checkPolicySyntax checks a resource policy's JSON syntax only
// (PutResourcePolicy, Errors: MalformedPolicyDocumentException "The
// resource policy has syntax errors").
func checkPolicySyntax(policy *string) *apiError {
	var doc map[string]any
	if policy != nil && json.Unmarshal([]byte(*policy), &doc) != nil {
		return newErr(codeMalformedPolicy, "This resource policy contains a syntax error.")
	}
	return nil
}

// checkToken validates a ClientRequestToken (32 to 64 characters; it
// becomes the VersionId).
func checkToken(member string, tok *string) *apiError {
	return length(member, tok, 32, 64)
}

// checkSecretID validates SecretId (1 to 2048 characters).
func checkSecretID(id *string) *apiError {
	return required("secretId", id, 1, 2048)
}

// checkStages validates a VersionStages list: 1 to 20 labels of 1 to 256
// characters.
func checkStages(stages *[]string) *apiError {
	if stages == nil {
		return nil
	}
	if len(*stages) < 1 || len(*stages) > 20 {
		return errConstraint("versionStages", "have length between 1 and 20")
	}
	for _, st := range *stages {
		if err := length("versionStages.member", &st, 1, 256); err != nil {
			return err
		}
	}
	return nil
}

// checkTags validates Tags: keys 1 to 128 characters, values 0 to 256.
func checkTags(tags []tag) *apiError {
	for _, t := range tags {
		if err := required("tags.member.key", t.Key, 1, 128); err != nil {
			return err
		}
		if err := length("tags.member.value", t.Value, 0, 256); err != nil {
			return err
		}
	}
	return nil
}
