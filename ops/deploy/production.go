package deploy

import (
	"fmt"
	"strings"

	"github.com/dbvault/dbvault/stacks/kit"
)

// production lists the layers among present whose stack config says
// environmentClass=production.
func (o *Orchestrator) production(present []kit.Layer) []kit.Layer {
	var out []kit.Layer
	for _, l := range present {
		if o.have[l.Name][l.Project+":environmentClass"] == kit.Production {
			out = append(out, l)
		}
	}
	return out
}

// ProductionDestroyNotice is what a destroy of a production environment
// says before it asks: what stays, and how to remove each on purpose. The
// same steps are in docs/runbooks.md, "Retiring a production environment".
func ProductionDestroyNotice(env string, layers []kit.Layer) string {
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nEnvironment %s is a PRODUCTION environment (environmentClass=production in %s). Destroying it does not remove everything, by design:\n", env, strings.Join(names, ", "))
	b.WriteString(`  - protected resources (protect: the cluster and its instances, the KMS keys, the secrets): Pulumi refuses to delete them,
    and the destroy is refused before it deletes anything of a layer that holds one (a preview of the destroy runs first).
    To retire one on purpose:
      (cd stacks/<layer> && pulumi stack --show-urns --stack <org>/<project>/<env>)   # the URNs
      (cd stacks/<layer> && pulumi state unprotect '<urn>' --stack <org>/<project>/<env>)   # or --all
  - the cluster's deletion protection: turn it off before the database layer goes:
      aws rds modify-db-cluster --db-cluster-identifier <clusterIdentifier> --no-deletion-protection --apply-immediately
  - the cluster's final snapshot (the database stack's output finalSnapshotIdentifier, final-<env>-<creation time>):
    RDS takes it on deletion and keeps it until you delete it. If that output is empty (a cluster created ephemeral by an
    earlier version), the destroy stops before the cluster: the runbook says how to name one.
      aws rds describe-db-cluster-snapshots --snapshot-type manual --db-cluster-identifier <clusterIdentifier>
      aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier <snapshot>
  - the secrets: deleted with a 30-day recovery window (aws secretsmanager restore-secret brings one back); to delete one at once:
      aws secretsmanager delete-secret --secret-id <arn> --force-delete-without-recovery
  - the KMS keys: deletion is only scheduled, after their deletion window (30 days); aws kms cancel-key-deletion stops it.
    The final snapshot (database key) and the trail's logs (logs key) stay readable only while their keys exist.
  - the trail's bucket: versioned, under a year of S3 Object Lock (governance mode), never force-destroyed: it and its log
    files stay until their retention ends (or a principal with s3:BypassGovernanceRetention deletes them, deliberately).
Runbook: docs/runbooks.md, "Retiring a production environment".

`)
	return b.String()
}
