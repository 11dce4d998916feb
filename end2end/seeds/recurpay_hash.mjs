// Recurpay's published Node.js snippet (shared/seeds/004_…), unchanged. It hashes subscriber
// "12345" with the secret in RECURPAY_SINGLE_SIGN_ON_SECRET and prints "Customer Hash: <hex>".
import crypto from "crypto";

/**
 * Generates HMAC-SHA256 hash of a customer ID using a secret key
 * @param {string} customerId - The customer ID to hash
 * @param {string} secretKey - Your shared secret key
 * @returns {string} - Hex-encoded HMAC hash
 */
function hashCustomerId(customerId, secretKey) {
  return crypto
    .createHmac("sha256", secretKey)
    .update(customerId)
    .digest("hex");
}

// Example usage
const customerId = "12345";
const secretKey = process.env.RECURPAY_SINGLE_SIGN_ON_SECRET;

const customerHash = hashCustomerId(customerId, secretKey);
console.log("Customer Hash:", customerHash);
