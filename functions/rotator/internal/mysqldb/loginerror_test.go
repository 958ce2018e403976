package mysqldb

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dbvault/dbvault/functions/rotator/internal/database"
)

// Each refusal of the credentials the server answers at login reads as a
// rejected login, and says why; an expired password, which the server
// accepted, reads as expired; any other server error as neither.
func TestLoginErrorClassifiesRefusals(t *testing.T) {
	l := database.Login{Host: "db.example", Port: 3306, User: "app"}
	for _, c := range []struct {
		number            uint16
		rejected, expired bool
		want              string
	}{
		{1045, true, false, "the database rejected the credentials"},
		{3118, true, false, "the account is locked (ACCOUNT LOCK)"},
		{4151, true, false, "the account is locked (ACCOUNT LOCK)"},
		{3955, true, false, "blocked after too many failed logins"},
		{4150, true, false, "blocked after too many failed logins"},
		{1862, false, true, "the account's password has expired, and the server refuses the login"},
		{1040, false, false, "MySQL error 1040"},
	} {
		err := loginError(l, &mysql.MySQLError{Number: c.number, Message: "from the server"}, 0, nil)
		if errors.Is(err, database.ErrLoginRejected) != c.rejected || errors.Is(err, database.ErrPasswordExpired) != c.expired || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %d: %v (rejected %v, expired %v), want rejected %v, expired %v, %q",
				c.number, err, errors.Is(err, database.ErrLoginRejected), errors.Is(err, database.ErrPasswordExpired), c.rejected, c.expired, c.want)
		}
	}
}
