package secret

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAcceptsAWSFormat(t *testing.T) {
	cases := []struct {
		name string
		in   string
		port int
	}{
		{"port number", `{"engine":"mysql","host":"db","port":3307,"username":"app","password":"pw-1234"}`, 3307},
		{"port string", `{"engine":"aurora-mysql","host":"db","port":"3308","username":"app","password":"pw-1234"}`, 3308},
		{"port default", `{"engine":"mysql","host":"db","username":"app","password":"pw-1234"}`, DefaultPort},
		{"port null", `{"engine":"mysql","host":"db","port":null,"username":"app","password":"pw-1234"}`, DefaultPort},
		{"engine mariadb (AWS's value for MariaDB secrets)", `{"engine":"mariadb","host":"db","port":3309,"username":"app","password":"pw-1234"}`, 3309},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.Port != c.port || s.Host != "db" || s.Username != "app" || s.Password != "pw-1234" {
				t.Fatalf("parsed %+v", s)
			}
		})
	}
}

func TestParseRefusesBadSecretsWithoutQuotingThem(t *testing.T) {
	const pw = "Sup3r$ecretValue!"
	big := `{"engine":"mysql","host":"db","username":"app","password":"` + pw + `","pad":"` + strings.Repeat("x", 70*1024) + `"}`
	cases := []struct {
		name, in, want string
	}{
		{"not JSON", `engine=mysql password=` + pw, "not a valid JSON object"},
		{"truncated JSON", `{"engine":"mysql","password":"` + pw, "not a valid JSON object"},
		{"array", `["` + pw + `"]`, "not a JSON object"},
		{"string", `"` + pw + `"`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"empty", ``, "empty"},
		{"trailing data", `{"engine":"mysql","host":"db","username":"app","password":"` + pw + `"} x`, "not a valid JSON object"},
		{"missing engine", `{"host":"db","username":"app","password":"` + pw + `"}`, `"engine" is missing`},
		{"missing host", `{"engine":"mysql","username":"app","password":"` + pw + `"}`, `"host" is missing`},
		{"host with a trailing space", `{"engine":"mysql","host":"db ","username":"app","password":"` + pw + `"}`, `"host" is not a host name`},
		{"host with a port", `{"engine":"mysql","host":"db:3306","username":"app","password":"` + pw + `"}`, `"host" is not a host name`},
		{"host with credentials", `{"engine":"mysql","host":"u@db","username":"app","password":"` + pw + `"}`, `"host" is not a host name`},
		{"missing username", `{"engine":"mysql","host":"db","password":"` + pw + `"}`, `"username" is missing`},
		{"missing password", `{"engine":"mysql","host":"db","username":"app"}`, `"password" is missing`},
		{"empty password", `{"engine":"mysql","host":"db","username":"app","password":""}`, `"password" is empty`},
		{"password not a string", `{"engine":"mysql","host":"db","username":"app","password":12345678}`, `"password" must be a JSON string, not a number`},
		{"wrong engine", `{"engine":"postgres","host":"db","username":"app","password":"` + pw + `"}`, "engine must be one of mysql, aurora-mysql"},
		{"port not a number", `{"engine":"mysql","host":"db","port":"abc","username":"app","password":"` + pw + `"}`, `"port" must be a whole number`},
		{"port out of range", `{"engine":"mysql","host":"db","port":70000,"username":"app","password":"` + pw + `"}`, `"port" must be a whole number`},
		{"port fraction", `{"engine":"mysql","host":"db","port":33.5,"username":"app","password":"` + pw + `"}`, `"port" must be a whole number`},
		{"70 KB", big, "more than the 65536"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "Sup3r") || strings.Contains(err.Error(), "postgres") {
				t.Errorf("error quotes the secret: %q", err)
			}
		})
	}
}

func TestMarshalKeepsUnknownKeysAndRoundTrips(t *testing.T) {
	in := `{"engine":"mysql","host":"db","port":"3306","username":"app","password":"old","dbname":"shop","masterarn":"arn:aws:secretsmanager:us-east-1:1:secret:m","dbClusterIdentifier":"c1","team":{"owner":"payments"},"note":"keep me"}`
	s, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.WithCredentials("app_clone", `n<e>w&"\pw`).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Username != "app_clone" || back.Password != `n<e>w&"\pw` || back.DBName != "shop" || back.MasterARN != s.MasterARN || back.DBClusterIdentifier != "c1" || back.Port != 3306 {
		t.Fatalf("round trip: %+v", back)
	}
	for _, want := range []string{`"team":{"owner":"payments"}`, `"note":"keep me"`, `"password":"n<e>w&\"\\pw"`} {
		if !strings.Contains(out, want) {
			t.Errorf("marshalled %s lacks %s", out, want)
		}
	}
	again, _ := back.Marshal()
	if again != out {
		t.Errorf("marshal is not stable:\n%s\n%s", out, again)
	}
}

// FuzzParseSecret: Parse never panics; what it accepts is complete and
// round-trips through Marshal; what it refuses, it refuses without quoting
// the password it was given.
func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{
		`{"engine":"mysql","host":"db","port":3306,"username":"app","password":"pw"}`,
		`{"engine":"aurora-mysql","host":"db","port":"3306","username":"app","password":"p\"w","dbname":"x","masterarn":"arn:m","extra":[1,2]}`,
		`{"engine":"mysql","host":"db","username":"app","password":""}`,
		`{"engine":"postgres"}`, `[]`, `null`, `"x"`, `{`, ``, `{"port":1e400}`, `{"port":"-1"}`,
		`{"engine":"mysql","host":"h","username":"u","password":"\ud800"}`,
	} {
		f.Add(s, "FuzzPassw0rd")
	}
	f.Fuzz(func(t *testing.T, in, pw string) {
		s, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			// Put a password in a secret that is broken elsewhere: the
			// error must not quote it.
			if len(pw) >= 8 && !strings.ContainsAny(pw, `"\`) {
				withPw := strings.Replace(in, "{", `{"password":"`+pw+`",`, 1)
				if _, err2 := Parse(withPw); err2 != nil && strings.Contains(err2.Error(), pw) {
					t.Fatalf("error quotes the password: %v", err2)
				}
			}
			return
		}
		if s.Engine == "" || s.Host == "" || s.Username == "" || s.Password == "" || s.Port < 1 || s.Port > 65535 {
			t.Fatalf("accepted an incomplete secret: %+v", s)
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of marshalled secret: %v", err)
		}
		if back.Username != s.Username || back.Password != s.Password || back.Host != s.Host || back.Port != s.Port {
			t.Fatalf("round trip changed the secret")
		}
	})
}

func TestUnprovisionedAndMaster(t *testing.T) {
	const deployer = `{"engine":"aurora-mysql","host":"db.example","port":3306,"username":"app","dbname":"vault","masterarn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1","dbClusterIdentifier":"c1"}`
	if _, err := Parse(deployer); err == nil || !strings.Contains(err.Error(), `"password" is missing`) {
		t.Fatalf("Parse of a secret without a password: %v", err)
	}
	s, err := ParseUnprovisioned(deployer)
	if err != nil || !s.Unprovisioned() || s.Username != "app" || s.DBName != "vault" {
		t.Fatalf("ParseUnprovisioned = %+v, %v", s, err)
	}
	if _, err := ParseUnprovisioned(strings.Replace(deployer, `"username"`, `"password":"","username"`, 1)); err == nil {
		t.Fatal("ParseUnprovisioned accepted an empty password string")
	}
	m, err := ParseMaster(`{"username":"admin","password":"pw-123456789"}`)
	if err != nil || m.Username != "admin" || m.Password != "pw-123456789" || m.Host != "" || m.Port != 0 {
		t.Fatalf("ParseMaster of RDS's shape = %+v, %v", m, err)
	}
	m, err = ParseMaster(`{"engine":"mysql","host":"h","port":"3307","username":"admin","password":"pw-123456789"}`)
	if err != nil || m.Host != "h" || m.Port != 3307 {
		t.Fatalf("ParseMaster of AWS's shape = %+v, %v", m, err)
	}
	for _, bad := range []string{`{"username":"admin"}`, `{"password":"x"}`, `{"username":"admin","password":"x","engine":"postgres"}`, `{"username":"admin","password":"x","host":""}`} {
		if _, err := ParseMaster(bad); err == nil {
			t.Errorf("ParseMaster accepted %s", bad)
		}
	}
}
