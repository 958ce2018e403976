package smlocal

import (
	"context"
	"crypto/rand"
	"math/big"
	"strings"
)

// The character classes of GetRandomPassword: "The password can contain
// uppercase and lowercase letters, numbers, and the following
// punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~" and, with IncludeSpace,
// the space character.
const (
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars = "0123456789"
	punctChars = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

type getRandomPasswordInput struct {
	PasswordLength          *int64
	ExcludeCharacters       *string
	ExcludeNumbers          *bool
	ExcludePunctuation      *bool
	ExcludeUppercase        *bool
	ExcludeLowercase        *bool
	IncludeSpace            *bool
	RequireEachIncludedType *bool
}

type getRandomPasswordOutput struct {
	RandomPassword string
}

func isTrue(b *bool) bool { return b != nil && *b }

func (in *getRandomPasswordInput) check() *apiError {
	return length("excludeCharacters", in.ExcludeCharacters, 0, 4096)
}

func (s *Server) getRandomPassword(_ context.Context, in *getRandomPasswordInput) (any, *apiError) {
	pw, err := randomPassword(in)
	if err != nil {
		return nil, err
	}
	return getRandomPasswordOutput{RandomPassword: pw}, nil
}

// randomPassword implements GetRandomPassword with crypto/rand:
// PasswordLength 1 to 4096 (default 32); the Exclude* switches and
// ExcludeCharacters remove characters; IncludeSpace adds the space;
// RequireEachIncludedType (default true) puts at least one character of
// every class that is left into the password.
func randomPassword(in *getRandomPasswordInput) (string, *apiError) {
	n := int64(32)
	if in.PasswordLength != nil {
		n = *in.PasswordLength
	}
	if n < 1 || n > 4096 {
		return "", errConstraint("passwordLength", "have value between 1 and 4096")
	}
	exclude := ""
	if in.ExcludeCharacters != nil {
		exclude = *in.ExcludeCharacters
	}
	keep := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(exclude, r) {
				return -1
			}
			return r
		}, set)
	}
	var classes []string
	add := func(excluded bool, set string) {
		if !excluded {
			if k := keep(set); k != "" {
				classes = append(classes, k)
			}
		}
	}
	add(isTrue(in.ExcludeLowercase), lowerChars)
	add(isTrue(in.ExcludeUppercase), upperChars)
	add(isTrue(in.ExcludeNumbers), digitChars)
	add(isTrue(in.ExcludePunctuation), punctChars)
	add(!isTrue(in.IncludeSpace), " ")
	if len(classes) == 0 {
		return "", newErr(codeInvalidParameter, "The password cannot be generated: every character type is excluded.")
	}
	requireEach := in.RequireEachIncludedType == nil || *in.RequireEachIncludedType
	if requireEach && n < int64(len(classes)) {
		return "", newErr(codeInvalidParameter, "The PasswordLength %d is too short to include a character of each of the %d included types (RequireEachIncludedType).", n, len(classes))
	}
	all := strings.Join(classes, "")
	out := make([]byte, 0, n)
	if requireEach {
		for _, c := range classes {
			out = append(out, c[randInt(len(c))])
		}
	}
	for int64(len(out)) < n {
		out = append(out, all[randInt(len(all))])
	}
	// Shuffle (Fisher-Yates) so the required characters sit anywhere.
	for i := len(out) - 1; i > 0; i-- {
		j := randInt(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// randInt returns a uniform random int in [0, n) from crypto/rand.
func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("smlocal: crypto/rand failed: " + err.Error())
	}
	return int(v.Int64())
}
