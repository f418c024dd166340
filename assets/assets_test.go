package assets

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"
)

func decode(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", name, err)
	}
	return img
}

func TestAppIconIs512Square(t *testing.T) {
	t.Parallel()
	img := decode(t, "app icon", AppIcon())
	if got := img.Bounds().Size(); got != image.Pt(512, 512) {
		t.Fatalf("app icon is %v, want 512×512", got)
	}
	// Corners are transparent: the tile is rounded, not a square slab.
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("app icon corner is opaque (alpha %d)", a)
	}
}

var states = map[TrayState]string{SignedOut: "signed out", SignedIn: "signed in", Refreshing: "refreshing", Attention: "attention"}

func TestTrayIconsDifferPerState(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for s, name := range states {
		b := TrayIcon(s)
		img := decode(t, name, b)
		if got := img.Bounds().Size(); got != image.Pt(64, 64) {
			t.Errorf("%s tray icon is %v, want 64×64", name, got)
		}
		if other, dup := seen[string(b)]; dup {
			t.Errorf("%s and %s share one tray icon", name, other)
		}
		seen[string(b)] = name
	}
	if !bytes.Equal(TrayIcon(TrayState(99)), TrayIcon(SignedOut)) {
		t.Error("an unknown state does not fall back to the signed-out icon")
	}
}

// TestTrayIconsReadableOnLightAndDarkPanels composites every tray icon on a
// light and a dark panel colour and requires a good part of the icon to stand
// out from each with at least the 3:1 contrast WCAG asks of graphics: a
// single-colour glyph fails on one of the two.
func TestTrayIconsReadableOnLightAndDarkPanels(t *testing.T) {
	t.Parallel()
	panels := map[string]color.RGBA{
		"light": {0xf6, 0xf5, 0xf4, 0xff}, // GNOME/KDE light panel
		"dark":  {0x1e, 0x1e, 0x1e, 0xff}, // GNOME top bar, Windows taskbar
	}
	for s, name := range states {
		img := decode(t, name, TrayIcon(s))
		for panel, bg := range panels {
			b := img.Bounds()
			contrasting := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					if contrastRatio(over(img.At(x, y), bg), bg) >= 3 {
						contrasting++
					}
				}
			}
			share := float64(contrasting) / float64(b.Dx()*b.Dy())
			if share < 0.2 {
				t.Errorf("%s tray icon on a %s panel: only %.0f%% of it contrasts 3:1 with the panel", name, panel, share*100)
			}
		}
	}
}

// over blends c onto an opaque background.
func over(c color.Color, bg color.RGBA) color.RGBA {
	r, g, b, a := c.RGBA() // premultiplied, 16 bit
	blend := func(fg uint32, back uint8) uint8 {
		return uint8((fg + uint32(back)*0x101*(0xffff-a)/0xffff) >> 8)
	}
	return color.RGBA{blend(r, bg.R), blend(g, bg.G), blend(b, bg.B), 0xff}
}

// contrastRatio is the WCAG 2 contrast ratio of two opaque colours.
func contrastRatio(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.RGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}
