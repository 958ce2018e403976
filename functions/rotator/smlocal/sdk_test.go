package smlocal_test

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
	"github.com/dbvault/dbvault/functions/rotator/smlocal/smtest"
)

// The tests in this file drive every operation through the real
// aws-sdk-go-v2 client, with each documented error path.

var arnRE = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-[A-Za-z0-9]{6}$`)

func TestCreateSecret(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()

	// CreateSecret, ARN: the name, a hyphen and six random characters.
	out := must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("app/db"), SecretString: aws.String(`{"password":"p"}`), ClientRequestToken: aws.String(tok(1)),
		Description: aws.String("the app's db"), KmsKeyId: aws.String("alias/secrets-dev"),
		Tags: []types.Tag{{Key: aws.String("Environment"), Value: aws.String("dev")}},
	}))
	if !arnRE.MatchString(*out.ARN) || *out.Name != "app/db" || *out.VersionId != tok(1) {
		t.Fatalf("CreateSecret = %s %s %s", *out.ARN, *out.Name, *out.VersionId)
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN}))
	if *d.Description != "the app's db" || *d.KmsKeyId != "alias/secrets-dev" || len(d.Tags) != 1 || d.CreatedDate == nil || d.LastChangedDate == nil {
		t.Fatalf("DescribeSecret = %+v", d)
	}
	if d.RotationEnabled != nil || d.LastAccessedDate != nil {
		t.Fatalf("new secret shows rotation or access: %+v", d)
	}

	// ClientRequestToken: a retry with the same token and value succeeds
	// and creates nothing; with another value it fails.
	again := must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("app/db"), SecretString: aws.String(`{"password":"p"}`), ClientRequestToken: aws.String(tok(1)),
	}))
	if *again.ARN != *out.ARN || *again.VersionId != tok(1) {
		t.Fatalf("idempotent retry = %+v", again)
	}
	_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("other"), ClientRequestToken: aws.String(tok(1))})
	wantCode(t, err, "ResourceExistsException")
	// Errors, ResourceExistsException: the name is taken.
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("x")})
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate name: %v, want ResourceExistsException", err)
	}
	// Name: allowed characters only.
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("x")})
	wantCode(t, err, "InvalidParameterException")
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(strings.Repeat("n", 513))})
	wantCode(t, err, "ValidationException")
	// SecretString and SecretBinary: not both.
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("x"), SecretBinary: []byte("y")})
	wantCode(t, err, "InvalidParameterException")
	// SecretString: at most 65,536 bytes; exactly that many is accepted.
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("big"), SecretString: aws.String(strings.Repeat("x", 65537))})
	wantCode(t, err, "ValidationException")
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("max"), SecretBinary: bytes.Repeat([]byte{0xff}, 65536)})
	if err != nil {
		t.Fatalf("65,536-byte SecretBinary refused: %v", err)
	}
	// ClientRequestToken: 32 to 64 characters.
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("short-token"), SecretString: aws.String("x"), ClientRequestToken: aws.String("too-short")})
	wantCode(t, err, "ValidationException")

	// Without a value the secret has no version.
	empty := must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")}))
	if empty.VersionId != nil {
		t.Fatalf("secret without value has version %s", *empty.VersionId)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestLookupByNameAndARN(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()
	out := must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("v")}))
	partial := strings.TrimSuffix(*out.ARN, (*out.ARN)[len(*out.ARN)-7:])
	// SecretId: "the ARN or name of the secret"; a partial ARN (without the
	// random suffix) also finds it ("Finding a secret from a partial ARN").
	for _, id := range []string{"app/db", *out.ARN, partial} {
		g, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil || *g.SecretString != "v" {
			t.Fatalf("GetSecretValue(%s) = %v, %v", id, g, err)
		}
	}
	for _, id := range []string{"app", "app/db-x", *out.ARN + "x", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"} {
		_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("DescribeSecret(%s) = %v, want ResourceNotFoundException", id, err)
		}
	}
}

func TestGetSecretValue(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 15, 4, 5, 0, time.UTC)}
	e := smtest.Start(t, smlocal.Options{Now: clk.now})
	c, ctx := e.Client, t.Context()
	must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretBinary: []byte{0, 1, 2}, ClientRequestToken: aws.String(tok(1))}))
	must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: aws.String(tok(2))}))

	get := func(id, stage *string) (*secretsmanager.GetSecretValueOutput, error) {
		return c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: id, VersionStage: stage})
	}
	// VersionStage defaults to AWSCURRENT.
	g := must[*secretsmanager.GetSecretValueOutput](t)(get(nil, nil))
	if *g.VersionId != tok(2) || *g.SecretString != "two" || g.VersionStages[0] != "AWSCURRENT" {
		t.Fatalf("default = %+v", g)
	}
	// By stage, by id, by both when they agree; SecretBinary round-trips.
	g = must[*secretsmanager.GetSecretValueOutput](t)(get(nil, aws.String("AWSPREVIOUS")))
	if *g.VersionId != tok(1) || !bytes.Equal(g.SecretBinary, []byte{0, 1, 2}) || g.SecretString != nil {
		t.Fatalf("AWSPREVIOUS = %+v", g)
	}
	g = must[*secretsmanager.GetSecretValueOutput](t)(get(aws.String(tok(1)), aws.String("AWSPREVIOUS")))
	if *g.VersionId != tok(1) {
		t.Fatalf("by id and stage = %+v", g)
	}
	// VersionId and VersionStage that disagree.
	_, err := get(aws.String(tok(1)), aws.String("AWSCURRENT"))
	wantCode(t, err, "InvalidRequestException")
	// Unknown version id or label.
	_, err = get(aws.String(tok(9)), nil)
	wantCode(t, err, "ResourceNotFoundException")
	_, err = get(aws.String(tok(9)), aws.String("AWSCURRENT"))
	wantCode(t, err, "ResourceNotFoundException")
	_, err = get(nil, aws.String("AWSPENDING"))
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")

	// LastAccessedDate: the day of the last retrieval, rounded down.
	d := must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}))
	if want := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC); d.LastAccessedDate == nil || !d.LastAccessedDate.Equal(want) {
		t.Fatalf("LastAccessedDate = %v, want %v", d.LastAccessedDate, want)
	}
}

func TestPutSecretValue(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()
	must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one"), ClientRequestToken: aws.String(tok(1))}))

	// ClientRequestToken becomes the VersionId; without VersionStages the
	// version becomes AWSCURRENT.
	p := must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: aws.String(tok(2))}))
	if *p.VersionId != tok(2) || len(p.VersionStages) != 1 || p.VersionStages[0] != "AWSCURRENT" {
		t.Fatalf("PutSecretValue = %+v", p)
	}
	// The same token and value again: success, no change.
	before := smtest.Stages(t, c, "s")
	must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: aws.String(tok(2)), VersionStages: []string{"OTHER"}}))
	if after := smtest.Stages(t, c, "s"); !smtest.EqualStages(before, after) {
		t.Fatalf("idempotent put changed stages: %v -> %v", before, after)
	}
	// The same token with another value: refused.
	_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("three"), ClientRequestToken: aws.String(tok(2))})
	wantCode(t, err, "ResourceExistsException")
	// A value is required; not both kinds.
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s")})
	wantCode(t, err, "InvalidRequestException")
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("a"), SecretBinary: []byte("b")})
	wantCode(t, err, "InvalidParameterException")
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(strings.Repeat("x", 65537))})
	wantCode(t, err, "ValidationException")
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("a")})
	wantCode(t, err, "ResourceNotFoundException")
	if after := smtest.Stages(t, c, "s"); !smtest.EqualStages(before, after) {
		t.Fatalf("refused puts changed stages: %v -> %v", before, after)
	}

	// A secret created without a value: its first version is AWSCURRENT
	// whatever VersionStages says.
	must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")}))
	p = must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("empty"), SecretString: aws.String("one"), ClientRequestToken: aws.String(tok(3)), VersionStages: []string{"AWSPENDING"}}))
	if !slices.Equal(p.VersionStages, []string{"AWSPENDING", "AWSCURRENT"}) {
		t.Fatalf("first version's stages = %v, want AWSPENDING and AWSCURRENT", p.VersionStages)
	}
}

func TestListSecretVersionIds(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()
	must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("1"), ClientRequestToken: aws.String(tok(1))}))
	for i := 2; i <= 4; i++ {
		must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v"), ClientRequestToken: aws.String(tok(i))}))
	}
	ids := func(in *secretsmanager.ListSecretVersionIdsInput) []string {
		var out []string
		p := secretsmanager.NewListSecretVersionIdsPaginator(c, in)
		for p.HasMorePages() {
			page := must[*secretsmanager.ListSecretVersionIdsOutput](t)(p.NextPage(ctx))
			for _, v := range page.Versions {
				out = append(out, *v.VersionId)
			}
		}
		return out
	}
	// IncludeDeprecated: versions without labels only on request.
	if got := ids(&secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s")}); strings.Join(got, ",") != tok(3)+","+tok(4) {
		t.Fatalf("versions = %v", got)
	}
	// MaxResults and NextToken page through all of them.
	if got := ids(&secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1)}); len(got) != 4 {
		t.Fatalf("with deprecated, paged = %v", got)
	}
	_, err := c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidNextTokenException")
	_, err = c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), MaxResults: aws.Int32(101)})
	wantCode(t, err, "ValidationException")
	_, err = c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestGetRandomPassword(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()
	pw := func(in *secretsmanager.GetRandomPasswordInput) string {
		return *must[*secretsmanager.GetRandomPasswordOutput](t)(c.GetRandomPassword(ctx, in)).RandomPassword
	}
	classes := map[string]string{
		"lower": "abcdefghijklmnopqrstuvwxyz", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"digit": "0123456789", "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	}
	// Default: 32 characters, each class present (RequireEachIncludedType
	// defaults to true), no space.
	for range 20 {
		p := pw(&secretsmanager.GetRandomPasswordInput{})
		if len(p) != 32 || strings.Contains(p, " ") {
			t.Fatalf("default password %q", p)
		}
		for name, set := range classes {
			if !strings.ContainsAny(p, set) {
				t.Fatalf("default password %q has no %s character", p, name)
			}
		}
	}
	// Every switch.
	p := pw(&secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(200), ExcludePunctuation: aws.Bool(true), ExcludeNumbers: aws.Bool(true), ExcludeUppercase: aws.Bool(true)})
	if strings.ContainsAny(p, classes["punct"]+classes["digit"]+classes["upper"]) || len(p) != 200 {
		t.Fatalf("lowercase-only password %q", p)
	}
	p = pw(&secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(200), ExcludeLowercase: aws.Bool(true), ExcludeCharacters: aws.String("/@\"'\\ ABC")})
	if strings.ContainsAny(p, classes["lower"]+"/@\"'\\ ABC") {
		t.Fatalf("password %q has an excluded character", p)
	}
	p = pw(&secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(5), IncludeSpace: aws.Bool(true)})
	if !strings.Contains(p, " ") {
		t.Fatalf("IncludeSpace with RequireEachIncludedType: %q has no space", p)
	}
	p = pw(&secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(1), RequireEachIncludedType: aws.Bool(false)})
	if len(p) != 1 {
		t.Fatalf("length 1: %q", p)
	}
	// Errors: too short for every type; everything excluded; bad length.
	_, err := c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(3)})
	wantCode(t, err, "InvalidParameterException")
	_, err = c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterException")
	for _, n := range []int64{0, 4097} {
		_, err = c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(n)})
		wantCode(t, err, "ValidationException")
	}
}

func TestResourcePolicy(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()
	must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s")}))
	// Resource policies are stored and returned, not enforced: the calls
	// after the Deny-all policy below still succeed.
	g := must[*secretsmanager.GetResourcePolicyOutput](t)(c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("s")}))
	if g.ResourcePolicy != nil {
		t.Fatalf("policy before any = %s", *g.ResourcePolicy)
	}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}`
	must[*secretsmanager.PutResourcePolicyOutput](t)(c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("s"), ResourcePolicy: aws.String(pol)}))
	g = must[*secretsmanager.GetResourcePolicyOutput](t)(c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("s")}))
	if *g.ResourcePolicy != pol {
		t.Fatalf("policy = %s", *g.ResourcePolicy)
	}
	_, err := c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("s"), ResourcePolicy: aws.String("{not json")})
	wantCode(t, err, "MalformedPolicyDocumentException")
	must[*secretsmanager.DeleteResourcePolicyOutput](t)(c.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("s")}))
	g = must[*secretsmanager.GetResourcePolicyOutput](t)(c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("s")}))
	if g.ResourcePolicy != nil {
		t.Fatal("policy still there after DeleteResourcePolicy")
	}
}

func TestFaultInjector(t *testing.T) {
	e := smtest.Start(t, smlocal.Options{})
	c, ctx := e.Client, t.Context()
	must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}))
	// The injector runs on the server's goroutines: guard what it shares.
	var mu sync.Mutex
	var seen []string
	var fault *smlocal.Fault
	setFault := func(f *smlocal.Fault) { mu.Lock(); fault = f; mu.Unlock() }
	e.Server.SetFaultInjector(func(op string) *smlocal.Fault {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, op)
		return fault
	})
	setFault(&smlocal.Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	wantCode(t, err, "ThrottlingException")
	setFault(&smlocal.Fault{Status: 500, Code: "InternalServiceError", Message: "boom"})
	_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	var ise *types.InternalServiceError
	if !errors.As(err, &ise) {
		t.Fatalf("err = %v, want InternalServiceError", err)
	}
	// A dropped connection is a transport error, not an AWS error.
	setFault(&smlocal.Fault{DropConnection: true})
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("dropped connection: err = %v, want a transport error", err)
	}
	mu.Lock()
	ops := strings.Join(seen, ",")
	mu.Unlock()
	if ops != "GetSecretValue,DescribeSecret,GetSecretValue" {
		t.Fatalf("injector saw %v", ops)
	}
	// Removing the injector restores normal answers; the faults changed nothing.
	e.Server.SetFaultInjector(nil)
	g := must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}))
	if *g.SecretString != "v" {
		t.Fatalf("value = %s", *g.SecretString)
	}
}
