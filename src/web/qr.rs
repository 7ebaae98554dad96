//! QR codes as SVG for the public sign-up pages (posters, websites): black modules on white, with the
//! quiet zone the standard asks for, sized by the viewer.

use qrcode::QrCode;
use qrcode::render::svg;

/// An SVG QR code for `data`, or `None` when it is too long for a QR code.
pub fn svg(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(240, 240)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}
