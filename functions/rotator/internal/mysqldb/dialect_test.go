package mysqldb

import "testing"

func TestDialectOf(t *testing.T) {
	for _, c := range []struct {
		version, comment string
		want             string
	}{
		{"10.11.6-MariaDB-0+deb12u1", "Debian 12", mariaDB.name},
		{"8.0.39", "Source distribution", mySQL8.name},
		{"8.0.mysql_aurora.3.08.0", "Source distribution", mySQL8.name},
		{"8.0.31", "Dolt", embedded.name},
	} {
		if got := dialectOf(c.version, c.comment); got.name != c.want {
			t.Errorf("dialectOf(%q, %q) = %s, want %s", c.version, c.comment, got.name, c.want)
		}
	}
}
