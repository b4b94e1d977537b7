// Package england generates an England-sized synthetic data set: about
// 33,755 LSOA-like small areas inside a rough outline of England, with
// MSOAs, wards, ~300 local authority districts and 9 regions, deprivation,
// population, postcodes, GP practices, schools and community assets, in
// the official file formats nbhd's importers read.
package england

// outline is a rough coastline of England and its borders with Scotland and
// Wales (lon, lat), clockwise from the Solway Firth. Estuaries are left out
// so the coast stays one simple ring.
var outline = [][2]float64{
	{-3.05, 54.98}, {-2.95, 55.05}, {-2.65, 55.17}, {-2.35, 55.35}, {-2.2, 55.45}, {-2.05, 55.62},
	{-2.03, 55.79}, {-1.71, 55.6}, {-1.6, 55.39}, {-1.57, 55.33}, {-1.5, 55.13}, {-1.42, 55.02},
	{-1.36, 54.91}, {-1.18, 54.69}, {-1.05, 54.62}, {-0.61, 54.49}, {-0.4, 54.28}, {-0.08, 54.12},
	{-0.19, 54.06}, {0.0, 53.8}, {0.13, 53.6}, {-0.02, 53.55}, {0.34, 53.14}, {0.15, 52.95},
	{0.39, 52.8}, {0.49, 52.95}, {1.3, 52.93}, {1.73, 52.62}, {1.76, 52.47}, {1.68, 52.32},
	{1.6, 52.15}, {1.35, 51.95}, {1.16, 51.79}, {0.92, 51.76}, {0.75, 51.55}, {0.55, 51.5},
	{0.76, 51.44}, {1.03, 51.36}, {1.38, 51.39}, {1.45, 51.37}, {1.4, 51.22}, {1.32, 51.12},
	{1.18, 51.08}, {0.97, 50.91}, {0.58, 50.85}, {0.25, 50.74}, {-0.14, 50.81}, {-0.37, 50.8},
	{-0.79, 50.72}, {-1.05, 50.78}, {-1.35, 50.82}, {-1.55, 50.73}, {-1.88, 50.71}, {-1.96, 50.6},
	{-2.45, 50.56}, {-2.94, 50.71}, {-3.4, 50.61}, {-3.5, 50.46}, {-3.64, 50.22}, {-4.15, 50.34},
	{-4.7, 50.32}, {-5.2, 49.96}, {-5.53, 50.1}, {-5.72, 50.06}, {-5.48, 50.21}, {-5.08, 50.42},
	{-4.94, 50.54}, {-4.55, 50.83}, {-4.53, 51.02}, {-4.2, 51.06}, {-4.12, 51.21}, {-3.47, 51.21},
	{-3.05, 51.22}, {-2.98, 51.35}, {-2.7, 51.5}, {-2.6, 51.62}, {-2.67, 51.7}, {-2.72, 51.81},
	{-3.1, 52.05}, {-3.05, 52.2}, {-3.05, 52.35}, {-3.12, 52.55}, {-3.0, 52.75}, {-3.05, 52.88},
	{-2.75, 52.98}, {-2.95, 53.18}, {-3.08, 53.26}, {-3.18, 53.38}, {-3.05, 53.45}, {-3.1, 53.56},
	{-3.0, 53.66}, {-2.98, 53.75}, {-3.05, 53.82}, {-3.01, 53.92}, {-2.88, 54.05}, {-2.83, 54.18},
	{-3.22, 54.1}, {-3.28, 54.2}, {-3.64, 54.49}, {-3.57, 54.65}, {-3.5, 54.72}, {-3.39, 54.87},
	{-3.2, 54.95},
}

// city is an urban area: name, position, population and spread (km).
type city struct {
	name     string
	lon, lat float64
	pop      float64
	sigmaKm  float64
	metro    bool // in a metropolitan county (E08 districts)
}

// cities are England's larger urban areas, roughly as big as they are.
var cities = []city{
	{"Westminster", -0.13, 51.50, 3.2e6, 7, false}, {"Croydon", -0.1, 51.42, 2.2e6, 12, false},
	{"Barnet", -0.2, 51.6, 1.9e6, 11, false}, {"Havering", 0.15, 51.55, 1.4e6, 12, false},
	{"Hillingdon", -0.4, 51.52, 0.9e6, 9, false},
	{"Birmingham", -1.89, 52.48, 1.6e6, 8, true}, {"Wolverhampton", -2.12, 52.58, 0.9e6, 7, true},
	{"Coventry", -1.51, 52.41, 0.4e6, 5, true},
	{"Manchester", -2.24, 53.48, 1.3e6, 7, true}, {"Bolton", -2.43, 53.58, 0.6e6, 6, true},
	{"Oldham", -2.1, 53.54, 0.5e6, 6, true}, {"Stockport", -2.16, 53.41, 0.5e6, 6, true},
	{"Wigan", -2.63, 53.54, 0.35e6, 6, true},
	{"Liverpool", -2.95, 53.42, 0.9e6, 7, true}, {"Wirral", -3.05, 53.37, 0.35e6, 5, true},
	{"Leeds", -1.55, 53.8, 0.8e6, 7, true}, {"Bradford", -1.75, 53.79, 0.5e6, 6, true},
	{"Kirklees", -1.78, 53.65, 0.4e6, 6, true}, {"Wakefield", -1.5, 53.68, 0.35e6, 6, true},
	{"Sheffield", -1.47, 53.38, 0.65e6, 6, true}, {"Doncaster", -1.13, 53.52, 0.3e6, 6, true},
	{"Newcastle upon Tyne", -1.61, 54.97, 0.6e6, 6, true}, {"Sunderland", -1.38, 54.9, 0.35e6, 5, true},
	{"Bristol", -2.59, 51.46, 0.7e6, 6, false}, {"Nottingham", -1.15, 52.95, 0.7e6, 6, false},
	{"Leicester", -1.13, 52.63, 0.55e6, 5, false}, {"Southampton", -1.4, 50.91, 0.4e6, 5, false},
	{"Portsmouth", -1.08, 50.81, 0.45e6, 5, false}, {"Brighton and Hove", -0.14, 50.84, 0.35e6, 4, false},
	{"Plymouth", -4.14, 50.38, 0.26e6, 4, false}, {"Stoke-on-Trent", -2.18, 53.01, 0.37e6, 5, false},
	{"Kingston upon Hull", -0.34, 53.75, 0.3e6, 4, false}, {"Reading", -0.97, 51.45, 0.33e6, 5, false},
	{"Derby", -1.48, 52.92, 0.27e6, 4, false}, {"Middlesbrough", -1.23, 54.56, 0.38e6, 6, false},
	{"Bournemouth", -1.88, 50.73, 0.47e6, 6, false}, {"Norwich", 1.29, 52.63, 0.21e6, 4, false},
	{"Milton Keynes", -0.76, 52.04, 0.25e6, 4, false}, {"Luton", -0.42, 51.88, 0.26e6, 4, false},
	{"Northampton", -0.9, 52.24, 0.23e6, 4, false}, {"Swindon", -1.78, 51.56, 0.2e6, 4, false},
	{"Oxford", -1.26, 51.75, 0.17e6, 3, false}, {"Cambridge", 0.12, 52.2, 0.15e6, 3, false},
	{"Peterborough", -0.24, 52.57, 0.2e6, 4, false}, {"Ipswich", 1.15, 52.06, 0.15e6, 3, false},
	{"Exeter", -3.53, 50.72, 0.13e6, 3, false}, {"Cheltenham", -2.08, 51.9, 0.25e6, 5, false},
	{"York", -1.08, 53.96, 0.2e6, 4, false}, {"Preston", -2.7, 53.76, 0.33e6, 5, false},
	{"Blackpool", -3.03, 53.82, 0.24e6, 4, false}, {"Blackburn with Darwen", -2.45, 53.75, 0.3e6, 6, false},
	{"Lincoln", -0.54, 53.23, 0.12e6, 3, false}, {"Southend-on-Sea", 0.7, 51.55, 0.3e6, 4, false},
	{"Medway", 0.53, 51.38, 0.3e6, 5, false}, {"Crawley", -0.19, 51.11, 0.2e6, 5, false},
	{"Colchester", 0.9, 51.89, 0.12e6, 3, false}, {"Bath and North East Somerset", -2.36, 51.38, 0.1e6, 3, false},
	{"Carlisle", -2.94, 54.89, 0.08e6, 3, false}, {"Lancaster", -2.8, 54.05, 0.1e6, 3, false},
	{"Warrington", -2.59, 53.39, 0.21e6, 4, false}, {"Telford and Wrekin", -2.45, 52.68, 0.15e6, 4, false},
	{"Worcester", -2.22, 52.19, 0.1e6, 3, false}, {"Torbay", -3.53, 50.46, 0.13e6, 3, false},
	{"Chelmsford", 0.47, 51.74, 0.12e6, 3, false}, {"Basingstoke and Deane", -1.09, 51.27, 0.11e6, 3, false},
	{"Gloucester", -2.24, 51.86, 0.13e6, 3, false}, {"Durham", -1.57, 54.78, 0.1e6, 5, false},
}

// ruralPop is England's population outside the cities above, spread over
// small towns and the countryside.
const ruralPop = 17e6

// regionSpec is one of England's nine regions: its code, name, number of
// local authority districts, and anchor points (lon, lat); a place belongs
// to the region of its nearest anchor, London to a disc around its centre.
type regionSpec struct {
	code, name string
	lads       int
	anchors    [][2]float64
}

var regions = []regionSpec{
	{"E12000001", "North East", 12, [][2]float64{{-1.9, 55.2}, {-1.55, 54.75}}},
	{"E12000002", "North West", 35, [][2]float64{{-2.9, 54.6}, {-2.7, 53.85}, {-2.5, 53.45}}},
	{"E12000003", "Yorkshire and The Humber", 15, [][2]float64{{-1.5, 54.2}, {-1.3, 53.6}, {-0.5, 53.8}}},
	{"E12000004", "East Midlands", 35, [][2]float64{{-1.3, 53.05}, {-0.35, 53.15}, {-1.0, 52.55}}},
	{"E12000005", "West Midlands", 30, [][2]float64{{-2.25, 52.9}, {-2.1, 52.35}, {-1.55, 52.4}}},
	{"E12000006", "East of England", 45, [][2]float64{{0.7, 52.55}, {0.3, 52.15}, {0.6, 51.8}, {-0.35, 51.95}}},
	{"E12000007", "London", 33, nil},
	{"E12000008", "South East", 64, [][2]float64{{-1.25, 51.7}, {-0.8, 51.2}, {0.7, 51.2}, {-1.25, 50.95}}},
	{"E12000009", "South West", 27, [][2]float64{{-2.35, 51.5}, {-2.5, 50.9}, {-3.6, 50.8}, {-4.8, 50.4}}},
}

// london is the centre and radius (km) of the London region.
var london = struct{ lon, lat, km float64 }{-0.11, 51.5, 25}

// Region LSOA counts in 2021, from which the real total comes; used only to
// say how many a region should hold at scale 1.
const englandLSOAs, englandLSOAs2011, englandMSOAs = 33755, 32844, 6856
