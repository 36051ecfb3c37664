package httpx

// Perm is the least a caller must be to use a route. Every surface (API,
// web) lists its routes with one of these; the values match the rank of
// the agent roles (agent 1, lead 2, admin 3). Row-level rules (which
// tickets an agent sees, which team a lead manages) come on top.
type Perm int

// Permissions, from open to most restricted.
const (
	Public Perm = iota // anyone, no credentials
	Agent              // any signed-in agent, lead or admin
	Lead               // leads and admins
	Admin              // admins only
)

func (p Perm) String() string {
	switch p {
	case Public:
		return "public"
	case Agent:
		return "agent"
	case Lead:
		return "lead"
	case Admin:
		return "admin"
	}
	return "unknown"
}

// Allows reports whether a caller of the given role rank may use the route.
func (p Perm) Allows(roleRank int) bool { return roleRank >= int(p) }
