package world

import (
	"math/rand/v2"
	"strings"
)

var (
	nameStarts = []string{"Ash", "Bar", "Beck", "Bland", "Brad", "Bram", "Brom", "Burn", "Cal", "Carr", "Chal",
		"Chel", "Clay", "Cold", "Crow", "Dal", "Dun", "East", "Elm", "Elles", "Fair", "Fal", "Fern", "Gar",
		"Gold", "Grim", "Hal", "Ham", "Hart", "Hay", "Heath", "Hol", "Kel", "Kings", "Kirk", "Lang", "Lea",
		"Lin", "Long", "Mar", "Mel", "Mill", "Nether", "New", "North", "Oak", "Old", "Ot", "Pen", "Pres",
		"Red", "Rother", "Sal", "Sand", "Shep", "Shir", "Stan", "Stock", "Stone", "Sud", "Sun", "Thorn",
		"Ux", "Wal", "Wat", "Wel", "West", "Whit", "Wick", "Wil", "Win", "Wood", "Wor", "Wy"}
	nameEnds = []string{"bury", "by", "caster", "chester", "combe", "cote", "dale", "den", "don", "field",
		"ford", "gate", "ham", "hampton", "hill", "hurst", "ing", "ington", "land", "ley", "low", "mere",
		"minster", "mouth", "ness", "port", "stead", "stow", "thorpe", "thwaite", "ton", "wall", "well",
		"wych", "wick", "worth"}
)

// Names makes unique English-looking place names.
type Names struct {
	r    *rand.Rand
	used map[string]bool
}

// NewNames starts a name source; reserved names are never produced.
func NewNames(r *rand.Rand, reserved ...string) *Names {
	n := &Names{r: r, used: map[string]bool{}}
	for _, s := range reserved {
		n.used[s] = true
	}
	return n
}

// Reserve marks a name as taken; it reports whether it was free.
func (n *Names) Reserve(s string) bool {
	if n.used[s] {
		return false
	}
	n.used[s] = true
	return true
}

// Next returns a name not returned or reserved before.
func (n *Names) Next() string {
	for tries := 0; ; tries++ {
		s := nameStarts[n.r.IntN(len(nameStarts))] + nameEnds[n.r.IntN(len(nameEnds))]
		if tries > 50 {
			s += " " + []string{"Vale", "Green", "Moor", "Park", "Heath", "Bridge"}[n.r.IntN(6)]
		}
		if tries > 200 {
			s = strings.TrimSpace(s) + " " + string(rune('A'+n.r.IntN(26)))
		}
		if n.Reserve(s) {
			return s
		}
	}
}
