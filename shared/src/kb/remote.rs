//! What a remote move needs beyond the server answering: the migration account's role on premises, and
//! the firewall letting Exchange Online's own addresses in.
//!
//! Sources:
//! - The role: Microsoft Learn, "Assign permissions for migration"
//!   (MicrosoftDocs/OfficeDocs-Exchange@3e944cad:Exchange/ExchangeOnline/mailbox-migration/assign-permissions-for-migration.md):
//!   "For a remote move migration, the migration administrator account must be: [...] A member of the
//!   Organization Management or Recipient Management group in Exchange 2010 or above." Full Access (or
//!   Receive As) is what a cutover or staged migration needs, not a remote move. The credentials are
//!   "stored in the format of contoso\administrator and not administrator@contoso.com" (KB 10094,
//!   "Troubleshoot migration issues in Exchange hybrid").
//! - The allow list: "Hybrid deployment prerequisites": "The related Microsoft 365 and Office 365 endpoints
//!   are vast, ever-changing, and aren't listed here. Instead, see Microsoft 365 and Office 365 URLs and
//!   IP address ranges - Exchange Online"; that page's Exchange Online row ID 1 (TCP 443, 80) lists the
//!   addresses. It changes, so migcheck names the list and does not copy it.

/// The role groups a remote move needs the migration account in, in a sentence naming `user`.
pub fn remote_move_role(user: &str) -> String {
    format!(
        "A remote move needs {user} in the Organization Management or Recipient Management role group on premises, not Full Access to the mailboxes; migcheck cannot see role groups from outside, so check them on premises."
    )
}

/// How to check and give the role a remote move needs (PowerShell on premises, prose in comments).
const FIX_ROLE: &str = r#"# A remote move needs the migration account in Organization Management or Recipient Management on premises
# (not Full Access to the mailboxes); give the credentials as DOMAIN\user, not user@domain
Get-RoleGroupMember "Organization Management" | Format-Table Name,SamAccountName
Get-RoleGroupMember "Recipient Management" | Format-Table Name,SamAccountName
Add-RoleGroupMember "Recipient Management" -Member USER"#;

/// [`FIX_ROLE`] for `user`.
pub fn remote_move_role_fix(user: &str) -> String {
    FIX_ROLE.replace("USER", user)
}

/// The page Exchange Online's addresses are published on.
pub const EXCHANGE_ONLINE_ENDPOINTS_URL: &str =
    "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges#exchange-online";

/// The sentence a verdict from the public relay ends with: it connected from its own address, so a pass
/// does not show that Exchange Online's addresses are let in.
pub fn hosted_relay_allow_list() -> String {
    format!(
        "migcheck connected from its own address, not Exchange Online's: check that your firewall lets in the addresses of Microsoft's list \"Microsoft 365 URLs and IP address ranges\", Exchange Online, ID 1 ({EXCHANGE_ONLINE_ENDPOINTS_URL})."
    )
}
