export function AuditView() {
  return (
    <>
      <h1>Audit</h1>
      <p>
        Read the audit log with <code>sluice audit</code> and check its chain with <code>sluice audit verify</code>.
      </p>
    </>
  );
}
