package server

import (
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

const (
	e7                = 1e7
	maxLatitude       = 90 * e7  // E7 degrees
	maxLongitude      = 180 * e7 // E7 degrees
	earthRadiusMetres = 6371000  // mean radius; the error against the ellipsoid is under 0.5%
)

// checkPoint reports a missing or out-of-range point as InvalidArgument,
// naming field so that a caller can tell which of several points was wrong.
func checkPoint(field string, p *pb.Point) error {
	if p == nil {
		return status.Errorf(codes.InvalidArgument, "%s is required", field)
	}
	if lat := p.GetLatitude(); lat < -maxLatitude || lat > maxLatitude {
		return status.Errorf(codes.InvalidArgument, "%s.latitude = %d, want within [%d, %d]",
			field, lat, int32(-maxLatitude), int32(maxLatitude))
	}
	if lng := p.GetLongitude(); lng < -maxLongitude || lng > maxLongitude {
		return status.Errorf(codes.InvalidArgument, "%s.longitude = %d, want within [%d, %d]",
			field, lng, int32(-maxLongitude), int32(maxLongitude))
	}
	return nil
}

// bounds is a rectangle with ordered corners.
type bounds struct{ minLat, maxLat, minLng, maxLng int32 }

// boundsOf orders the corners of a rectangle, so that callers may give
// either pair of opposite corners in either order.
func boundsOf(a, b *pb.Point) bounds {
	return bounds{
		minLat: min(a.GetLatitude(), b.GetLatitude()),
		maxLat: max(a.GetLatitude(), b.GetLatitude()),
		minLng: min(a.GetLongitude(), b.GetLongitude()),
		maxLng: max(a.GetLongitude(), b.GetLongitude()),
	}
}

// contains reports whether p lies inside b, edges included.
func (b bounds) contains(p *pb.Point) bool {
	lat, lng := p.GetLatitude(), p.GetLongitude()
	return lat >= b.minLat && lat <= b.maxLat && lng >= b.minLng && lng <= b.maxLng
}

// distanceMetres is the great-circle distance between a and b by the
// haversine formula.
func distanceMetres(a, b *pb.Point) float64 {
	lat1, lng1 := radians(a.GetLatitude()), radians(a.GetLongitude())
	lat2, lng2 := radians(b.GetLatitude()), radians(b.GetLongitude())
	sinLat := math.Sin((lat2 - lat1) / 2)
	sinLng := math.Sin((lng2 - lng1) / 2)
	h := sinLat*sinLat + math.Cos(lat1)*math.Cos(lat2)*sinLng*sinLng
	// Rounding can push h a hair past 1 for antipodal points.
	return 2 * earthRadiusMetres * math.Asin(math.Sqrt(min(h, 1)))
}

func radians(v int32) float64 { return float64(v) / e7 * math.Pi / 180 }

// wholeMetres rounds a distance for RouteSummary, capping it at the int32
// range instead of wrapping.
func wholeMetres(m float64) int32 {
	return int32(min(math.Round(m), math.MaxInt32))
}
