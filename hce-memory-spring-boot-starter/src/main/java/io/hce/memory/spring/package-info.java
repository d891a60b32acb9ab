/**
 * Spring Boot auto-configuration for hce-memory.
 */
package io.hce.memory.spring;
